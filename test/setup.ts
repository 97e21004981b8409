// Runs before every test file: a fixed time zone (syslog dates carry none) and no colours.
process.env.TZ = 'UTC';
process.env.NO_COLOR = '1';
delete process.env.FORCE_COLOR;
// Site rules on the test machine must not change what the built-in rules are tested with.
process.env.KLOGSCAN_RULES_D = '/nonexistent/klogscan-rules.d';
// Every search the store answers from memory is also run against the database, and a different
// answer fails the run (src/store.ts, selfCheck).
process.env.KLOGSCAN_STORE_CHECK = '1';
// Nothing a test runs may write to the operator's real database.
delete process.env.KLOGSCAN_DB;
