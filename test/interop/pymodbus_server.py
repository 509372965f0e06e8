#!/usr/bin/python3
"""Serves hand-written register images over Modbus TCP with pymodbus.

usage: /usr/bin/python3 pymodbus_server.py IMAGE.json [IMAGE.json ...]

Each image file holds {"units": {"UNIT": {"blocks": [{"address": A, "words": [...]}]}}}.
A word is a string "0xHHHH label" (the label is a comment), or "0xHHHH *N label"
for N copies of the same word. The units of all files are served together;
a unit may appear in one file only. Addresses are 0-based PDU addresses
(zero_mode), holding registers only. Unknown addresses answer exception 2,
reads of more than 125 registers exception 3, and requests for a unit id not
served get no reply at all (pymodbus 3.0's TCP framer drops them), all of it
pymodbus' own behaviour.

Binds 127.0.0.1 port 0 and prints "PORT <n>" on stdout once it accepts
connections. Exits when stdin is closed (the parent test went away) or on
SIGTERM.
"""
import asyncio
import json
import logging
import re
import signal
import sys
import threading

from pymodbus.datastore import ModbusServerContext, ModbusSlaveContext, ModbusSparseDataBlock
from pymodbus.server.async_io import ModbusTcpServer

WORD = re.compile(r"^0x([0-9A-Fa-f]{4})(?:\s+\*(\d+))?(?:\s+.*)?$")


def parse_words(entries, where):
    out = []
    for entry in entries:
        match = WORD.match(entry.strip())
        if not match:
            raise SystemExit(f"{where}: bad word {entry!r} (expected '0xHHHH label' or '0xHHHH *N label')")
        value = int(match.group(1), 16)
        count = int(match.group(2) or "1")
        out.extend([value] * count)
    return out


def load_units(paths):
    units = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            image = json.load(f)
        for unit_text, unit in image["units"].items():
            unit_id = int(unit_text)
            if unit_id in units:
                raise SystemExit(f"{path}: unit {unit_id} is already defined by another image")
            registers = {}
            for block in unit["blocks"]:
                start = int(block["address"])
                words = parse_words(block["words"], f"{path} unit {unit_id} block at {start}")
                for i, word in enumerate(words):
                    address = start + i
                    if address in registers:
                        raise SystemExit(f"{path}: unit {unit_id} register {address} is defined twice")
                    registers[address] = word
            units[unit_id] = registers
    return units


async def serve(units):
    slaves = {
        unit_id: ModbusSlaveContext(hr=ModbusSparseDataBlock(registers), zero_mode=True)
        for unit_id, registers in units.items()
    }
    context = ModbusServerContext(slaves=slaves, single=False)
    loop = asyncio.get_running_loop()
    server = ModbusTcpServer(context, address=("127.0.0.1", 0), loop=loop)
    task = asyncio.ensure_future(server.serve_forever())
    await server.serving
    port = server.server.sockets[0].getsockname()[1]
    sys.stdout.write(f"PORT {port}\n")
    sys.stdout.flush()

    stop = loop.create_future()

    def request_stop():
        if not stop.done():
            stop.set_result(None)

    loop.add_signal_handler(signal.SIGTERM, request_stop)
    loop.add_signal_handler(signal.SIGINT, request_stop)

    def watch_stdin():
        try:
            while sys.stdin.read(4096):
                pass
        finally:
            loop.call_soon_threadsafe(request_stop)

    threading.Thread(target=watch_stdin, daemon=True).start()
    await stop
    await server.shutdown()
    task.cancel()


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    logging.basicConfig(level=logging.CRITICAL)
    asyncio.run(serve(load_units(sys.argv[1:])))


if __name__ == "__main__":
    main()
