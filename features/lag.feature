Feature: Slow consumers
  Each client has a bounded buffer. A client that falls behind it is told so with a
  "lagged" notice and disconnected; the publisher and the other clients go on unaffected,
  and the slow client resumes from the notice without losing anything.

  Background:
    Given an event server that buffers at most 4 events per client
    And a client "fast-1" watching plan "plan-7"
    And a client "fast-2" watching plan "plan-7"
    And a client "slow" watching plan "plan-7" that stops reading

  Scenario: A client that falls behind is told it lagged while the others keep up
    When plan "plan-7" publishes large updates until "slow" falls behind, while the others keep up
    And plan "plan-7" publishes 2 progress updates
    Then "slow" reads what it was sent, then a notice that it lagged after the last of it
    And the server reports 1 stream closed because it fell behind
    And "fast-1" has received every event of plan "plan-7" exactly once, in order
    And "fast-2" has received every event of plan "plan-7" exactly once, in order

  Scenario: A client that lagged resumes from the notice and misses nothing
    When plan "plan-7" publishes large updates until "slow" falls behind, while the others keep up
    And "slow" reconnects after the event named in its lagged notice
    And plan "plan-7" publishes 2 progress updates
    Then "slow" has received every event of plan "plan-7" exactly once, in order
