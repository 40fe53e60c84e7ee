#!/usr/bin/env python3
"""Listeners for a test-bed node (scripts/testbed): accepts TCP on the given ports and closes;
on --tls ports it completes a TLS handshake and answers one HTTP request with 200 "ok"."""
import argparse, asyncio, ssl

async def plain(reader, writer):
    writer.close()

async def https(reader, writer):
    try:
        await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
    except Exception:
        pass
    writer.close()

async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, action="append", default=[])
    parser.add_argument("--tls", type=int, action="append", default=[])
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()
    servers = [await asyncio.start_server(plain, "0.0.0.0", p) for p in args.port]
    if args.tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
        servers += [await asyncio.start_server(https, "0.0.0.0", p, ssl=context) for p in args.tls]
    print("listening", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))

asyncio.run(main())
