Feature: Keep-alive
  An idle stream carries a comment after each quiet interval, so that proxies and load
  balancers do not close it and a vanished client is noticed.

  Scenario: An idle stream receives a keep-alive comment after each quiet interval
    Given an event server that sends keep-alives every 200 milliseconds
    When a client "idle" watches all plans
    Then "idle" receives 3 keep-alive comments, one every 200 milliseconds
