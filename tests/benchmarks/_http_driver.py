"""The HTTP client of the benchmarks that go over loopback, in a process of its own (so the
servers under test do not share its interpreter lock): one keep-alive connection per target,
one request per target per round, in turn, timed from sending the request to reading the
last byte of the response.

Reads a JSON plan on stdin, writes {"timings": {label: [ms, ...]}, "statuses": {label:
{status: count}}} on stdout. A plan: {"rounds": N, "warmup": W, "targets": [{"label",
"url" (scheme, host and port), "method", "path", "requests": [{"headers", "body"}]}]}; a
target's requests are taken in turn, and "__KEY__" in a body becomes a fresh UUID each time.
"""

from __future__ import annotations

import http.client
import json
import sys
import time
import uuid
from collections import Counter
from urllib.parse import urlsplit


def main() -> None:
    plan = json.load(sys.stdin)
    targets = plan["targets"]
    connections = {}
    for target in targets:
        address = urlsplit(target["url"])
        connections[target["label"]] = http.client.HTTPConnection(
            address.hostname, address.port, timeout=60
        )
    timings = {target["label"]: [] for target in targets}
    statuses = {target["label"]: Counter() for target in targets}
    for number in range(plan["warmup"] + plan["rounds"]):
        for target in targets:
            request = target["requests"][number % len(target["requests"])]
            body = request.get("body")
            if body is not None:
                body = body.replace("__KEY__", str(uuid.uuid4())).encode()
            connection = connections[target["label"]]
            started = time.perf_counter()
            connection.request(target["method"], target["path"], body, request["headers"])
            response = connection.getresponse()
            response.read()
            elapsed = (time.perf_counter() - started) * 1000
            if number >= plan["warmup"]:
                timings[target["label"]].append(elapsed)
                statuses[target["label"]][str(response.status)] += 1
    for connection in connections.values():
        connection.close()
    json.dump({"timings": timings, "statuses": statuses}, sys.stdout)


if __name__ == "__main__":
    main()
