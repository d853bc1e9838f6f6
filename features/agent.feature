Feature: An agent that takes messages: send, stream, cancel and list
  An A2A client talks to an agent over JSON-RPC or HTTP+JSON. SendMessage and
  SendStreamingMessage start a task, or continue one that asks for input; CancelTask ends
  a running one; ListTasks finds them again. The agent of these scenarios is the test
  kit's scripted executor, which does what the first word of a message's first text part
  says:
  - work: works, publishes the artifact "result.txt" in three chunks ("a", "b", "c"),
  then completes, saying "done";
  - ask: asks for input ("which one?"); any message continuing its task is the answer:
  the execution works, publishes the artifact "answer.txt" holding it and completes;
  - fail: works, then returns the error "the tool broke";
  - slow: works, then publishes a heartbeat every few milliseconds until it is canceled;
  - paced: works, then publishes the three chunks of "result.txt" and its completion
  one at a time, each when the scenario lets it go on;
  - ping: answers the message "pong", with no task.

  Decisions, taken without anyone to ask:
  - Every scenario's server is such an agent; the scenarios that publish plans
  themselves never send it a message, so they are unaffected.
  - A task answered with returnImmediately may be submitted or working: both are "not
  ended yet"; only a final or interrupted state fails the step.
  - "Updates missed" and "every update in order" are judged against the backend's own
  history of the task (its status and artifact events after the id in question), not
  against what the client received elsewhere.
  - Every frame having an SSE id means every frame carries an id of its own: the ids the
  client saw increase strictly (a frame without one would repeat the one before).
  - Status times have millisecond resolution; tasks that an ordering is asked of are
  made one after another, waiting for the clock to pass the previous task's status time
  instead of sleeping.
  - A heartbeat that races the cancel may be refused before the agent has seen the
  cancel: it is then refused as "the task already ended" and the handle does not report
  the cancel yet. The slow execution then waits until its handle reports it before it
  returns, and the scenario asks that the handle does report it and that the executor's
  cancel was called. An execution that returns at once after such a refusal is never
  told, and its cancel is never called: a race of the agent, reported, not pinned here
  (no scenario can make it happen on demand).
  - Over HTTP+JSON, ListTasks takes its parameters in the query string.
  - Every scenario runs on both backends: none is skipped on Redis, which lists tasks.

  Scenario Outline: A blocking SendMessage answers the finished task
    Given an agent answering over <binding>
    When the client sends the message "work"
    Then the answer is a task in state completed
    And the task holds the artifact "result.txt" made of the parts [a, b, c]
    And the task's history starts with the message the client sent
    And the task's context was made by the server
    And the task's status says "done"

    Examples:
      | binding   |
      | JSON-RPC  |
      | HTTP+JSON |

  Scenario Outline: With returnImmediately the answer comes before the task ends
    Given an agent answering over <binding>
    When the client sends the message "paced" with returnImmediately
    Then the answer is a task that has not ended
    When the agent is let finish
    Then the task is eventually completed

    Examples:
      | binding   |
      | JSON-RPC  |
      | HTTP+JSON |

  Scenario Outline: A message-only answer creates no task
    Given an agent answering over <binding>
    When the client sends the message "ping"
    Then the answer is the agent's message "pong"
    When the client lists the tasks
    Then the page holds the tasks [], out of 0, on the last page

    Examples:
      | binding   |
      | JSON-RPC  |
      | HTTP+JSON |

  Scenario Outline: A follow-up naming only the task continues it in its context
    Given an agent answering over <binding>
    When the client sends the message "ask"
    Then the answer is a task in state input-required
    And the task's status says "which one?"
    When the client answers "the blue one" to that task, naming only the task
    Then the answer is the same task, in the same context, in state completed
    And the task's history reads [ask, which one?, the blue one]
    And the task holds the artifact "answer.txt" made of the parts [the blue one]

    Examples:
      | binding   |
      | JSON-RPC  |
      | HTTP+JSON |

  Scenario Outline: A message to a finished or an unknown task is refused
    Given an agent answering over <binding>
    When the client sends the message "work"
    Then the answer is a task in state completed
    When the client answers "more" to that task, naming only the task
    Then the answer is the error UnsupportedOperation
    When the client sends "hello" to the task "no-such-task"
    Then the answer is the error TaskNotFound

    Examples:
      | binding   |
      | JSON-RPC  |
      | HTTP+JSON |

  Scenario Outline: An execution that fails leaves its task failed, with the reason
    Given an agent answering over <binding>
    When the client sends the message "fail"
    Then the answer is a task in state failed
    And the task's status says "the tool broke"

    Examples:
      | binding   |
      | JSON-RPC  |
      | HTTP+JSON |

  Scenario Outline: A streaming message gets the task, then every update in order, to the end
    Given an agent answering over <binding>
    When the client streams the message "work"
    Then the stream starts with the task in state submitted, the client's message first in its history
    And the stream ends after the task is completed
    And the stream carried every update of the task after its first frame, in order
    And every frame of the stream had an SSE id of its own

    Examples:
      | binding   |
      | JSON-RPC  |
      | HTTP+JSON |

  Scenario Outline: A stream ends when its task asks for input
    Given an agent answering over <binding>
    When the client streams the message "ask"
    Then the stream starts with the task in state submitted, the client's message first in its history
    And the stream ends after the task is input-required

    Examples:
      | binding   |
      | JSON-RPC  |
      | HTTP+JSON |

  Scenario Outline: A streaming answer to a task that asks for input starts with the task
    Given an agent answering over <binding>
    When the client sends the message "ask"
    And the client streams the answer "the blue one" to that task
    Then the stream starts with the task in state input-required, the client's answer last in its history
    And the stream ends after the task is completed
    And the stream carried every update of the task after its first frame, in order
    And every frame of the stream had an SSE id of its own

    Examples:
      | binding   |
      | JSON-RPC  |
      | HTTP+JSON |

  Scenario Outline: A client that drops its stream and resubscribes misses nothing
    Given an agent answering over <binding>
    When the client streams the message "paced"
    Then the stream starts with the task in state submitted, the client's message first in its history
    When the client drops its stream
    And the agent is let through 2 updates
    And the client resubscribes to the task with the last event id it got
    And the agent is let finish
    Then the stream ends after the task is completed
    And the stream carried exactly the updates the client missed, in order, none twice
    And every frame of the stream had an SSE id of its own

    Examples:
      | binding   |
      | JSON-RPC  |
      | HTTP+JSON |

  Scenario Outline: Canceling a running task ends it, its stream and its execution
    Given an agent answering over <binding>
    When the client streams the message "slow"
    Then the stream starts with the task in state submitted, the client's message first in its history
    And the stream carries an update in state working
    When the client cancels the task
    Then the answer is a task in state canceled
    And the stream ends after the task is canceled
    And the execution stops, its handle reporting the cancel
    And the task is still canceled, holding the last heartbeat the execution published
    When the client cancels the task
    Then the answer is the error TaskNotCancelable

    Examples:
      | binding   |
      | JSON-RPC  |
      | HTTP+JSON |

  Scenario Outline: A finished or an unknown task cannot be canceled
    Given an agent answering over <binding>
    When the client sends the message "work"
    And the client cancels the task
    Then the answer is the error TaskNotCancelable
    When the client cancels the task "no-such-task"
    Then the answer is the error TaskNotFound

    Examples:
      | binding   |
      | JSON-RPC  |
      | HTTP+JSON |

  Scenario Outline: ListTasks filters by context and by state
    Given an agent answering over <binding>
    And the client had these tasks made, one after another:
      | task | message | context |
      | A    | work    | blue    |
      | B    | fail    | blue    |
      | C    | work    | green   |
      | D    | ask     | blue    |
      | E    | slow    | green   |
    When the client lists the tasks of context "blue"
    Then the page holds the tasks [D, B, A], out of 3, on the last page
    When the client lists the tasks in state failed
    Then the page holds the tasks [B], out of 1, on the last page
    When the client lists the tasks in state working
    Then the page holds the tasks [E], out of 1, on the last page
    When the client lists the tasks of context "green" in state completed
    Then the page holds the tasks [C], out of 1, on the last page
    When the client lists the tasks of context "red"
    Then the page holds the tasks [], out of 0, on the last page

    Examples:
      | binding   |
      | JSON-RPC  |
      | HTTP+JSON |

  Scenario Outline: ListTasks orders by status time, newest first, a page at a time
    Given an agent answering over <binding>
    And the client had these tasks made, one after another:
      | task | message | context |
      | A    | ask     |         |
      | B    | work    |         |
      | C    | work    |         |
      | D    | work    |         |
      | E    | work    |         |
    And the client answered "the blue one" to task "A"
    When the client lists the tasks, 2 per page
    Then the page holds the tasks [A, E], out of 5, with a next page token
    When the client asks for the next page
    Then the page holds the tasks [D, C], out of 5, with a next page token
    When the client asks for the next page
    Then the page holds the tasks [B], out of 5, on the last page

    Examples:
      | binding   |
      | JSON-RPC  |
      | HTTP+JSON |

  Scenario Outline: ListTasks leaves artifacts out unless asked, and cuts the history
    Given an agent answering over <binding>
    And the client had these tasks made, one after another:
      | task | message | context |
      | A    | ask     |         |
    And the client answered "the blue one" to task "A"
    When the client lists the tasks
    Then the listed task A has 0 artifacts and the history [ask, which one?, the blue one]
    When the client lists the tasks with their artifacts
    Then the listed task A has 1 artifact and the history [ask, which one?, the blue one]
    When the client lists the tasks with at most 1 history message
    Then the listed task A has 0 artifacts and the history [the blue one]
    When the client lists the tasks with at most 0 history messages
    Then the listed task A has 0 artifacts and the history []

    Examples:
      | binding   |
      | JSON-RPC  |
      | HTTP+JSON |
