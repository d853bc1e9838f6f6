Feature: Graceful shutdown
  Closing the event queue ends every open stream, so a server's graceful shutdown is not
  held open by long-lived connections.

  Scenario: Closing the queue ends every open stream and lets the server stop
    Given an event server
    And a client "one" watching all plans
    And a client "two" watching plan "plan-7"
    And a client "three" watching plan "plan-8"
    And the server counts 3 open streams
    When the event queue closes and the server shuts down gracefully
    Then the stream of every client ends
    And the server has stopped within 5 seconds
    And the server reports 3 streams closed because the server shut down
