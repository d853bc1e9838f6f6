Feature: Following a plan as an A2A task
  An A2A client follows a task with SubscribeToTask, over JSON-RPC or HTTP+JSON. The plan
  id is the task id. The first item is the task as it is; then come the plan's updates in
  publish order, and the stream ends after a terminal state. Beyond the specification,
  every item has an SSE id, and a client that subscribes again with Last-Event-ID gets
  exactly what it missed.

  Scenario Outline: A subscriber gets the task, then every update in order, until the end
    Given an event server
    And plan "t-1" reports that it is working
    And plan "t-1" publishes an artifact named "draft"
    When an A2A client "agent" subscribes to task "t-1" over <binding>
    Then "agent" first receives task "t-1" in state "TASK_STATE_WORKING"
    And the task "agent" received holds the artifact "draft" with 1 part
    When plan "t-1" publishes an artifact named "final"
    And plan "t-1" reports that it is completed
    Then "agent" then receives every update of plan "t-1" after the task, in order
    And the A2A stream of "agent" ends

    Examples:
      | binding   |
      | JSON-RPC  |
      | HTTP+JSON |

  Scenario Outline: The task is right after its early events left the history
    Given an event server that retains only 2 events
    And plan "t-2" reports that it is working
    And plan "t-2" publishes an artifact named "summary"
    And plan "other" publishes 4 progress updates
    When an A2A client "late" subscribes to task "t-2" over <binding>
    Then "late" first receives task "t-2" in state "TASK_STATE_WORKING"
    And the task "late" received holds the artifact "summary" with 1 part

    Examples:
      | binding   |
      | JSON-RPC  |
      | HTTP+JSON |

  Scenario Outline: A subscriber that comes back with Last-Event-ID misses nothing
    Given an event server
    And plan "t-3" reports that it is working
    When an A2A client "agent" subscribes to task "t-3" over <binding>
    Then "agent" first receives task "t-3" in state "TASK_STATE_WORKING"
    When "agent" disconnects from its A2A stream
    And plan "t-3" publishes 3 progress updates
    And "agent" subscribes again with the last event id it received
    And plan "t-3" publishes 2 progress updates
    And plan "t-3" reports that it is completed
    Then "agent" receives exactly the updates of plan "t-3" it missed, in order
    And the A2A stream of "agent" ends

    Examples:
      | binding   |
      | JSON-RPC  |
      | HTTP+JSON |

  Scenario Outline: Unknown and finished tasks are refused with the binding's error
    Given an event server
    And plan "done" reports that it is completed
    When an A2A client "a" subscribes to task "nobody" over <binding>
    And an A2A client "b" subscribes to task "done" over <binding>
    Then "a" is refused because the task is_unknown
    And "b" is refused because the task finished

    Examples:
      | binding   |
      | JSON-RPC  |
      | HTTP+JSON |
