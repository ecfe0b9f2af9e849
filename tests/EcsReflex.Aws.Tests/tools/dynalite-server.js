// Starts dynalite (an implementation of the DynamoDB API) on a free loopback port for the state store tests,
// prints "listening <port>" once ready, and exits when its standard input closes (the test process ended).
'use strict';
const dynalite = require('dynalite');
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
