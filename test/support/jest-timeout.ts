// Tests and hooks of the e2e suites: starting and stopping service processes takes seconds, more
// on a busy machine; Jest's default of 5 s for a hook (the project's testTimeout does not reach
// hooks) made an afterAll that stops two replicas fail a CI run.
jest.setTimeout(60_000);
