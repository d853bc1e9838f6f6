Feature: Clients that go away
  When a client closes its connection the server forgets it at once: its subscription is
  removed and the disconnect hook reports it exactly once.

  Scenario: A client that disconnects is unsubscribed and reported once
    Given an event server
    And a client "dashboard" watching plan "plan-7"
    And the server counts 1 open stream
    When "dashboard" disconnects
    Then the server counts 0 open streams
    And the server reports 1 stream closed because the client went away
