// A minimal sharp HTTP server doing what `pixpress serve` does, for
// `make bench-serve`: POST /compress?op=resize|recompress with the image as
// the body, the output as the response body. sharp at its defaults (libvips
// threads, libuv pool), one Node process, as a small service would run it.
'use strict';
const http = require('http');
const sharp = require('sharp');

const port = Number(process.argv[2] || 18483);
const ops = {
  resize: (input) => sharp(input).resize({ width: 800 }).webp({ quality: 80 }).toBuffer(),
  recompress: (input) => sharp(input).jpeg({ quality: 80 }).toBuffer(),
};

http
  .createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const op = ops[url.searchParams.get('op')];
    if (req.method !== 'POST' || !op) {
      res.writeHead(404).end();
      return;
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      op(Buffer.concat(chunks)).then(
        (out) => res.writeHead(200, { 'content-type': 'image/' + (url.searchParams.get('op') === 'resize' ? 'webp' : 'jpeg') }).end(out),
        (err) => res.writeHead(422).end(String(err)),
      );
    });
  })
  .listen(port, '127.0.0.1', () => console.error(`sharp listening on ${port}`));
