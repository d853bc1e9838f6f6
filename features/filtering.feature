Feature: Watching one plan
  A client may ask for the events of a single plan with the plan_id parameter; it then
  receives that plan's events and no other.

  Scenario: A client watching one plan receives only that plan's events
    Given an event server
    And a client "alpha-watcher" watching plan "alpha"
    And a client "everything" watching all plans
    When plan "beta" reports that it is working
    And plan "alpha" reports that it is working
    And plan "beta" publishes an artifact named "draft"
    And plan "alpha" publishes an artifact named "summary"
    Then "alpha-watcher" has received every event of plan "alpha" exactly once, in order
    And "everything" has received every event exactly once, in order
