Feature: Live plan events
  A client connected to the event stream receives the events of running plans as they
  are published, in publish order, each once.

  Scenario: A connected client receives each event as it is published
    Given an event server
    And a client "dashboard" watching all plans
    When plan "plan-7" reports that it is working
    And plan "plan-7" publishes an artifact named "report"
    And plan "plan-8" reports that it is submitted
    Then "dashboard" has received every event exactly once, in order
    And "dashboard" received a status update of plan "plan-7" in state "TASK_STATE_WORKING"
    And "dashboard" received an artifact update of plan "plan-7" named "report"

  Scenario: The stream opens at once as an event stream that proxies must not cache or hold
    Given an event server
    When a client "dashboard" watches all plans
    Then "dashboard" is answered with an event stream that is neither cached nor buffered
    And "dashboard" is told to wait 3000 milliseconds before reconnecting
