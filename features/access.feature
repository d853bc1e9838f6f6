Feature: Who may open a stream, and how many at once
  An authorization hook decides before anything is subscribed, and a connection limit
  keeps a server from taking more streams than it is sized for. Both refuse with a plain
  HTTP status and the JSON error body {"error": {"code": ..., "message": ...}}, and a
  refused request holds no stream.

  Scenario: A request without credentials is refused with 401
    Given an event server that admits only the bearer token "open-sesame"
    When a client opens the stream without credentials
    Then the server answers 401 with the error code "unauthorized"
    And the server counts 0 open streams

  Scenario: A request with another token is refused with 403
    Given an event server that admits only the bearer token "open-sesame"
    When a client opens the stream with the bearer token "guess"
    Then the server answers 403 with the error code "forbidden"
    And the server counts 0 open streams

  Scenario: A request with the token gets its events
    Given an event server that admits only the bearer token "open-sesame"
    And a client "alice" with the bearer token "open-sesame" watching plan "p1"
    When plan "p1" publishes 3 progress updates
    Then "alice" has received every event of plan "p1" exactly once, in order

  Scenario: Past the connection limit a client is told when to come back
    Given an event server that serves at most 2 streams at once
    And a client "a" watching all plans
    And a client "b" watching all plans
    When another client opens the stream
    Then the server answers 503 with the error code "too_many_connections"
    And the answer says to retry after 1 second
    And the server counts 2 open streams

  Scenario: A place freed by a client that leaves goes to the next one
    Given an event server that serves at most 1 stream at once
    And a client "a" watching all plans
    When "a" disconnects
    Then the server counts 0 open streams
    When a client "b" watches all plans
    And plan "p1" publishes 2 progress updates
    Then "b" has received every event exactly once, in order
