Feature: Plans that finish
  The stream of a single plan ends after the event that puts the plan in a terminal state
  (completed, failed, canceled or rejected). A client that resumes after that event is
  answered 204 No Content, which tells a browser's EventSource to stop reconnecting.

  Scenario: The stream of a plan ends after the plan completes
    Given an event server
    And a client "dashboard" watching plan "plan-7"
    When plan "plan-7" reports that it is working
    And plan "plan-7" reports that it is completed
    Then "dashboard" has received every event of plan "plan-7" exactly once, in order
    And the stream of "dashboard" ends
    And the server reports 1 stream closed because the plan finished

  Scenario: A client resuming after the end of its plan is told there is nothing more
    Given an event server
    And plan "plan-7" reports that it is working
    And plan "plan-7" reports that it is failed
    When a client "late" resumes plan "plan-7" after event 2
    Then "late" is answered 204 with no stream
    And the server counts 0 open streams

  Scenario: A client resuming before the end of its plan gets the rest, then the stream ends
    Given an event server
    And plan "plan-7" reports that it is working
    And plan "plan-7" publishes 2 progress updates
    And plan "plan-7" reports that it is completed
    When a client "late" resumes plan "plan-7" after event 1
    Then "late" then receives events 2 to 4
    And the stream of "late" ends
