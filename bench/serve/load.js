// autocannon with a binary body (its CLI's --input reads the file as text):
//   node load.js URL METHOD CLIENTS SECONDS [BODY_FILE]  -> autocannon's JSON result
'use strict';
const fs = require('fs');
const autocannon = require('autocannon');

const [url, method, clients, seconds, bodyFile] = process.argv.slice(2);
autocannon(
  {
    url,
    method,
    connections: Number(clients),
    duration: Number(seconds),
    timeout: 120,
    body: bodyFile ? fs.readFileSync(bodyFile) : undefined,
    headers: bodyFile ? { 'content-type': 'application/octet-stream' } : {},
  },
  (err, result) => {
    if (err) throw err;
    process.stdout.write(JSON.stringify(result));
  },
);
