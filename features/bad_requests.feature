Feature: Bad requests
  A request the server cannot serve is refused before any stream starts, with a plain
  HTTP status and a JSON body {"error": {"code": ..., "message": ...}}.

  Scenario Outline: A malformed query is refused with a JSON error
    Given an event server
    When a client opens the stream with the query "<query>"
    Then the server answers 400 with the error code "<code>"
    And the server counts 0 open streams

    Examples:
      | query                   | code                  |
      | plan_id=has%20a%20space | invalid_plan_id       |
      | last_event_id=seven     | invalid_last_event_id |
      | plan_id=a&plan_id=b     | repeated_parameter    |

  Scenario: A malformed Last-Event-ID header is refused with a JSON error
    Given an event server
    When a client opens the stream with the Last-Event-ID "seven"
    Then the server answers 400 with the error code "invalid_last_event_id"
    And the server counts 0 open streams

  Scenario: A request with another method than GET is refused with a JSON error
    Given an event server
    When a client sends a POST request to the stream
    Then the server answers 405 with the error code "method_not_allowed"
    And the answer says that only GET is allowed
