Feature: Resuming after a reconnect
  A client that reconnects with the id of the last event it received (the Last-Event-ID
  header, or the last_event_id parameter) first gets what it missed, then live events,
  with nothing lost and nothing repeated.

  Scenario: A client that reconnects gets what it missed, then live events, each once
    Given an event server
    And a client "dashboard" watching plan "plan-7"
    And plan "plan-7" publishes 5 progress updates
    And "dashboard" has received every event of plan "plan-7" exactly once, in order
    When "dashboard" disconnects
    And plan "plan-7" publishes 5 progress updates
    And plan "plan-7" keeps publishing 200 progress updates meanwhile
    And "dashboard" reconnects with the last event id it received
    Then "dashboard" has received every event of plan "plan-7" exactly once, in order

  Scenario: A client that cannot set headers resumes with the last_event_id parameter
    Given an event server
    And a client "kiosk" watching plan "plan-7"
    And plan "plan-7" publishes 3 progress updates
    And "kiosk" has received every event of plan "plan-7" exactly once, in order
    When "kiosk" disconnects
    And plan "plan-7" publishes 3 progress updates
    And "kiosk" reconnects with the last event id it received in the address
    Then "kiosk" has received every event of plan "plan-7" exactly once, in order

  Scenario: A client resuming from before the retained history is told that events were lost
    Given an event server that retains only 3 events
    And plan "plan-7" publishes 6 progress updates
    When a client "late" resumes plan "plan-7" after event 1
    Then "late" is first told that history was reset: event 1 was asked for and event 4 is the oldest kept
    And "late" then receives events 4 to 6
