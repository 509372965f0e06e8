#!/usr/bin/python3
"""A stand-in for systemd's notify socket (sd_notify(3)): binds an AF_UNIX SOCK_DGRAM
socket at argv[1], answers systemd-notify's BARRIER=1 the way PID 1 does (by closing the
file descriptor it carries), and prints every other datagram as one JSON line:
{"t": seconds since start, "pid": sender pid from SCM_CREDENTIALS, "fields": {...}}.
Prints {"listening": path} once bound. Stops on SIGTERM or after argv[2] seconds."""
import array, json, os, socket, struct, sys, time

path = sys.argv[1]
limit = float(sys.argv[2]) if len(sys.argv) > 2 else 600.0
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
start = time.monotonic()
print(json.dumps({"listening": path}), flush=True)
while time.monotonic() - start < limit:
    sock.settimeout(max(0.1, limit - (time.monotonic() - start)))
    try:
        data, ancillary, _flags, _addr = sock.recvmsg(65536, socket.CMSG_SPACE(16 * 4) + socket.CMSG_SPACE(12))
    except socket.timeout:
        break
    pid = None
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
            for fd in fds:
                os.close(fd)
        elif level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iii", payload[:12])[0]
    fields = {}
    for line in data.decode("utf-8", "replace").split("\n"):
        if "=" in line:
            key, value = line.split("=", 1)
            fields[key] = value
    if fields == {"BARRIER": "1"}:
        continue
    print(json.dumps({"t": round(time.monotonic() - start, 3), "pid": pid, "fields": fields}), flush=True)
