"""TLS in front of a plain-HTTP upstream, for deploy/smoke-test.sh: terminates TLS on 127.0.0.1
with the given certificate and pipes the bytes to the upstream port. Prints its port, then
serves for at most 120 s (bounded, like every load or test tool here).

    python3 deploy/tls_proxy.py CERT KEY UPSTREAM_PORT
"""
import asyncio
import ssl
import sys

cert, key, upstream = sys.argv[1], sys.argv[2], int(sys.argv[3])


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


async def handle(reader, writer):
    up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream)
    await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer), return_exceptions=True)


async def main():
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        try:
            await asyncio.wait_for(server.serve_forever(), timeout=120)
        except asyncio.TimeoutError:
            pass


asyncio.run(main())
