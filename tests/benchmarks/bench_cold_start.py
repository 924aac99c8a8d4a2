"""Cold start of every function against a FastAPI + Mangum hello world, in the same run.

Each measurement is a fresh Python process that imports one handler module by its file
path (as the Lambda runtime does) and times, with time.perf_counter inside the process,
the import until `handler` exists; then it hands the handler one real API Gateway event
and times that first (cold) request. The hello world is a bare FastAPI app wrapped by
Mangum, built the same way. Rounds interleave all targets so drift on the machine hits
each alike. The goal (issue 8): no function's import above 1.25x the hello world's;
McpFunction's (issue 12), whose MCP SDK is its own dependency, at most 2x.

Two groups: the development tree (the venv, bytecode cached beside the sources), and the
`sam build` output as Lambda runs it (issue 13): `python -I -S -B` with nothing on sys.path
but the function's folder and the layer's `python/` (read-only code: no bytecode written),
against a hello world precompiled the same way whose FastAPI and Mangum are the layer's.

For a function over the goal, `python -X importtime` names the packages it imports that
the hello world does not, with their cost and the module that pulls each in.

    .venv/bin/python tests/benchmarks/bench_cold_start.py [--rounds 15] [--no-record]
        [--build-dir .aws-sam/build]   # an existing x86_64 build; else `sam build` runs
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import _stack

GOAL_RATIO = 1.25
GOAL_RATIOS = {"McpFunction": 2.0}

# FastAPI (0.165 here) imports pydantic.v1, to refuse v1 models, the first time a route
# declares a parameter; the bare hello world has none, every function has some.
HELLO_WORLD_WITH_PARAMETER_SOURCE = (
    _stack.HELLO_WORLD_SOURCE
    + """

@app.get("/hello/{name}")
def hello(name: str):
    return {"hello": name}
"""
)

# Runs in the fresh process: argv = module name, file path; stdin = the event (or empty).
# The figures go to stderr behind a marker: stdout carries Powertools' log lines.
PROBE = r"""
import time
started = time.perf_counter()
import importlib.util
import sys

name, path = sys.argv[1], sys.argv[2]
sys.path[:0] = sys.argv[3:]  # the build's folders (empty for the development tree)
spec = importlib.util.spec_from_file_location(name, path)
module = importlib.util.module_from_spec(spec)
sys.modules[name] = module
spec.loader.exec_module(module)
handler = module.handler
import_ms = (time.perf_counter() - started) * 1000

import json

event_text = sys.stdin.read()
first_ms, status = None, None
if event_text:
    class Context:
        aws_request_id = "cold-start"
        function_name = name
        function_version = "$LATEST"
        memory_limit_in_mb = 512
        invoked_function_arn = "arn:aws:lambda:local:000000000000:function:" + name
        log_group_name = "/aws/lambda/" + name
        log_stream_name = "cold-start"

        def get_remaining_time_in_millis(self):
            return 300_000

    event = json.loads(event_text)
    started = time.perf_counter()
    result = handler(event, Context())
    first_ms = (time.perf_counter() - started) * 1000
    status = result.get("statusCode", 200) if isinstance(result, dict) else None
print("BENCH_RESULT " + json.dumps({"import_ms": import_ms, "first_ms": first_ms,
                                    "status": status}), file=sys.stderr)
"""


@dataclass(frozen=True)
class Target:
    label: str
    module_name: str
    path: Path
    request: str  # what the first request is, for the table
    event: dict | None
    info: bool = False  # shown for comparison, not held to the goal
    baseline: str = "hello world"  # the label of the hello world it is compared with
    sys_path: tuple[str, ...] = ()  # set for the build: run isolated, only these on sys.path

    @property
    def goal(self) -> float:
        return GOAL_RATIOS.get(self.label.removeprefix("build: "), GOAL_RATIO)


@dataclass
class Figures:
    import_ms: list[float]
    first_ms: list[float]
    statuses: set


def probe(target: Target) -> dict:
    isolated = ["-I", "-S", "-B"] if target.sys_path else []
    completed = subprocess.run(
        [
            sys.executable,
            *isolated,
            "-c",
            PROBE,
            target.module_name,
            str(target.path),
            *target.sys_path,
        ],
        input=json.dumps(target.event) if target.event is not None else "",
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
        cwd=_stack.REPO_ROOT,
    )
    for line in reversed(completed.stderr.splitlines()):
        if line.startswith("BENCH_RESULT "):
            return json.loads(line.removeprefix("BENCH_RESULT "))
    raise RuntimeError(f"{target.label} did not start:\n{completed.stderr[-3000:]}")


BUILT_HELLO = "build: hello world"


def sam_build(build_dir: Path) -> Path:
    print(f"sam build into {build_dir}", file=sys.stderr)
    subprocess.run(
        [
            str(Path(sys.executable).parent / "sam"),
            "build",
            "--no-cached",
            "--parallel",
            "--build-dir",
            str(build_dir),
        ],
        cwd=_stack.REPO_ROOT,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
        check=True,
        capture_output=True,
        timeout=900,
    )
    return build_dir


def built_targets(development: list[Target], build_dir: Path) -> list[Target]:
    """The same targets, from the build: hello world precompiled beside the layer."""
    import py_compile

    layer = str(build_dir / "SharedLayer" / "python")
    hello_dir = _stack.WORK_DIR / "built_hello"
    hello_dir.mkdir(parents=True, exist_ok=True)
    hello = hello_dir / "hello_world_app.py"
    hello.write_text(_stack.HELLO_WORLD_SOURCE)
    py_compile.compile(
        str(hello), invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH, doraise=True
    )
    found = [
        Target(
            BUILT_HELLO,
            "hello_world_app",
            hello,
            development[0].request,
            development[0].event,
            baseline=BUILT_HELLO,
            sys_path=(str(hello_dir), layer),
        )
    ]
    for target in development:
        if target.info or target is development[0]:
            continue
        function_dir = build_dir / target.label
        found.append(
            Target(
                f"build: {target.label}",
                "app",
                function_dir / target.path.name,
                target.request,
                target.event,
                baseline=BUILT_HELLO,
                sys_path=(str(function_dir), layer),
            )
        )
    return found


def targets(student: _stack.BenchStudent) -> list[Target]:
    from api import Api

    from companion import security
    from companion.resources import mcp_resource
    from companion_dev import template

    hello = _stack.WORK_DIR / "hello_world_app.py"
    hello.parent.mkdir(parents=True, exist_ok=True)
    hello.write_text(_stack.HELLO_WORLD_SOURCE)
    # The event's base URL is the local one; MCP tokens are for `<base>/mcp`.
    mcp_token = security.issue_access_token(
        student.user_id, "free", audience=mcp_resource("http://localhost")
    ).token
    mcp_list_tools = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    mcp_headers = {
        "accept": "application/json, text/event-stream",
        "mcp-protocol-version": "2025-11-25",
    }
    requests = {
        "AuthFunction": ("GET", "/v1/me"),
        "ContentFunction": ("GET", "/v1/chapters"),
        "QuizFunction": ("GET", "/v1/quizzes/01-quiz"),
        "ProgressFunction": ("GET", "/v1/progress"),
        "OAuthFunction": ("GET", "/.well-known/oauth-authorization-server"),
    }
    with_parameter = _stack.WORK_DIR / "hello_world_parameter_app.py"
    with_parameter.write_text(HELLO_WORLD_WITH_PARAMETER_SOURCE)
    found = [
        Target(
            "hello world",
            "hello_world_app",
            hello,
            "GET /health",
            Api().event("GET", "/health"),
        )
    ]
    found.append(
        Target(
            "(info) hello world + a route with a path parameter",
            "hello_world_parameter_app",
            with_parameter,
            "GET /health",
            Api().event("GET", "/health"),
            info=True,
        )
    )
    for route in template.load_routes():  # any other HTTP function: its first plain GET
        if route.method == "GET" and "{" not in route.path:
            requests.setdefault(route.function, ("GET", route.path))
    for logical_id, (code_dir, handler) in template.function_handlers().items():
        module_path = handler.rpartition(".")[0]
        path = code_dir / (module_path.replace(".", "/") + ".py")
        if logical_id == "McpFunction":
            event = Api(mcp_token).event("POST", "/mcp", mcp_list_tools, headers=mcp_headers)
            request = "POST /mcp tools/list"
        elif logical_id in requests:
            method, route = requests[logical_id]
            event = Api(student.token).event(method, route)
            request = f"{method} {route}"
        else:  # PruneFunction: its daily schedule's event, as a dry run
            event = {"retention_days": 90, "dry_run": True}
            request = "schedule (dry run)"
        found.append(Target(logical_id, f"companion_fn_{code_dir.name}", path, request, event))
    return found


# --- which imports cost what (python -X importtime) ---------------------------------------

_IMPORTTIME = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def import_tree(target: Target) -> tuple[dict[str, float], dict[str, str]]:
    """(self ms per module, the module that imported each) for one import of the target."""
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location({target.module_name!r}, "
        f"{str(target.path)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        f"sys.modules[{target.module_name!r}] = module\n"
        "spec.loader.exec_module(module)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=_stack.REPO_ROOT,
    )
    self_ms: dict[str, float] = {}
    parent: dict[str, str] = {}
    pending: list[tuple[int, str]] = []  # (depth, module): children are printed first
    for line in completed.stderr.splitlines():
        match = _IMPORTTIME.match(line)
        if not match:
            continue
        depth, module = len(match.group(3)) // 2, match.group(4)
        self_ms[module] = int(match.group(1)) / 1000
        while pending and pending[-1][0] > depth:
            child_depth, child = pending.pop()
            if child_depth == depth + 1:
                parent[child] = module
        pending.append((depth, module))
    for _depth, module in pending:
        parent.setdefault(module, target.module_name)
    return self_ms, parent


def root(module: str) -> str:
    return module.split(".", 1)[0]


def import_offenders(target: Target, hello: Target, runs: int = 3) -> list[tuple[str, float, str]]:
    """What the target imports beyond the hello world, as (entry module, ms, imported by).

    Every module the hello world does not import is charged to its entry: the outermost
    module of the chain that pulled it in, below our own code or the hello world's modules
    (`pydantic_settings` from companion.settings, say). Costs are self times summed over the
    entry's modules, median of `runs` imports.
    """
    hello_modules: set[str] = set()
    for _ in range(runs):
        hello_modules |= set(import_tree(hello)[0])
    extra: dict[str, list[float]] = defaultdict(list)
    importer: dict[str, str] = {}
    for _ in range(runs):
        self_ms, parent = import_tree(target)
        per_entry: dict[str, float] = defaultdict(float)
        for module, cost in self_ms.items():
            if _ours(module):
                per_entry["companion (the layer's own modules)"] += cost
                continue
            if module in hello_modules:
                continue
            entry, seen = module, {module}
            up = parent.get(entry)
            while up and up not in hello_modules and not _ours(up) and up not in seen:
                entry, up = up, parent.get(up)
                seen.add(entry)
            per_entry[entry] += cost
            importer.setdefault(entry, up or target.module_name)
        importer.setdefault("companion (the layer's own modules)", target.module_name)
        for entry, cost in per_entry.items():
            extra[entry].append(cost)
    offenders = [
        (entry, statistics.median(costs), importer[entry]) for entry, costs in extra.items()
    ]
    return sorted(offenders, key=lambda item: -item[1])


def _ours(module: str) -> bool:
    return module == "companion" or module.startswith(("companion.", "companion_fn_"))


# --- the run -----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--explain-all",
        action="store_true",
        help="list the extra imports of every function, not only those over the goal",
    )
    parser.add_argument("--no-record", action="store_true", help="print only")
    parser.add_argument(
        "--build-dir", type=Path, help="an existing `sam build` output (x86_64) to measure"
    )
    options = parser.parse_args()
    build_dir = options.build_dir or sam_build(_stack.WORK_DIR / "sam-build")

    # A database of this run's own: other checkouts on the same server run this too.
    stack = _stack.start_stack(f"companion_bench_cold_{os.getpid()}")
    try:
        student = _stack.register_student()
        all_targets = targets(student)
        all_targets += built_targets(all_targets, build_dir.resolve())
        hello = all_targets[0]
        print("warming up (compiles bytecode, fills the content cache)", file=sys.stderr)
        broken = {}
        for target in all_targets:
            try:
                first = probe(target)
            except RuntimeError as exc:
                broken[target.label] = str(exc).splitlines()[-1]
                print(f"skipping {target.label}: {broken[target.label]}", file=sys.stderr)
                continue
            if first["status"] not in (None, 200):
                raise RuntimeError(f"{target.label}: first request answered {first['status']}")
        if hello.label in broken or BUILT_HELLO in broken:
            raise SystemExit("a hello world does not start")
        all_targets = [target for target in all_targets if target.label not in broken]
        figures = {target.label: Figures([], [], set()) for target in all_targets}
        for number in range(1, options.rounds + 1):
            # A new order each round: a process started right after another one runs slower
            # or faster than the first of a round, so a fixed order favours some targets.
            order = list(all_targets)
            random.Random(number).shuffle(order)
            for target in order:
                result = probe(target)
                figures[target.label].import_ms.append(result["import_ms"])
                if result["first_ms"] is not None:
                    figures[target.label].first_ms.append(result["first_ms"])
                figures[target.label].statuses.add(result["status"])
            print(f"round {number}/{options.rounds} done", file=sys.stderr)

        hello_import = _stack.summarise(figures[hello.label].import_ms)
        hello_first = _stack.summarise(figures[hello.label].first_ms)
        built_hello_import = _stack.summarise(figures[BUILT_HELLO].import_ms)
        rows, over_goal = [], []
        for target in all_targets:
            data = figures[target.label]
            imported = _stack.summarise(data.import_ms)
            first = _stack.summarise(data.first_ms)
            baseline = figures[target.baseline]
            ratio = imported.p50 / _stack.summarise(baseline.import_ms).p50
            is_hello = target.label == target.baseline
            if not is_hello and not target.info and ratio > target.goal:
                over_goal.append(target)
            rows.append(
                [
                    target.label,
                    _stack.ms(imported.p50),
                    _stack.ms(imported.p90),
                    _stack.ms(min(data.import_ms)),
                    f"{ratio:.2f}x" + (" **over**" if target in over_goal else ""),
                    f"{min(data.import_ms) / min(baseline.import_ms):.2f}x",
                    f"{target.request}",
                    _stack.ms(first.p50),
                    _stack.ms(first.p90),
                    _stack.ms(imported.p50 + first.p50),
                    ", ".join(str(status) for status in sorted(data.statuses, key=str)),
                ]
            )
        table = _stack.markdown_table(
            [
                "target",
                "import p50 ms",
                "import p90 ms",
                "import min ms",
                "import vs hello (p50)",
                "vs hello (min)",
                "first request",
                "first p50 ms",
                "first p90 ms",
                "import + first p50 ms",
                "status",
            ],
            rows,
        )
        print(table)

        mcp_text = []
        if "McpFunction" in figures:
            mcp = figures["McpFunction"]
            mcp_total = _stack.summarise(mcp.import_ms).p50 + _stack.summarise(mcp.first_ms).p50
            hello_total = hello_import.p50 + hello_first.p50
            mcp_text.append(
                f"McpFunction, import and first request together (the MCP SDK loads during the "
                f"first request): p50 {_stack.ms(mcp_total)} ms, {mcp_total / hello_total:.2f}x "
                f"the hello world's {_stack.ms(hello_total)} ms."
            )
            print(mcp_text[0])

        offender_text = []
        explained = [
            t
            for t in all_targets[1:]
            if not t.sys_path and (t in over_goal or (options.explain_all and not t.info))
        ]
        for target in explained:
            print(f"\n{target.label}: what it imports beyond the hello world")
            offenders = import_offenders(target, hello)
            lines = [
                f"- `{entry}` +{cost:.0f} ms"
                + ("" if entry.startswith("companion ") else f", imported by `{importer}`")
                + (
                    " (at module level or in a call made then)"
                    if importer == target.module_name and not entry.startswith("companion ")
                    else ""
                )
                for entry, cost, importer in offenders
                if cost >= 5
            ]
            print("\n".join(lines))
            offender_text.append(
                f"**{target.label}** imports, beyond the hello world (each entry with what it "
                "pulls in, self times summed, median of 3 `python -X importtime` runs, 5 ms "
                "and up):\n\n" + "\n".join(lines)
            )

        verdict = (
            f"Every function is within its goal ({GOAL_RATIO}x of the hello world; "
            f"McpFunction {GOAL_RATIOS['McpFunction']}x)."
            if not over_goal
            else "Over their goal: " + ", ".join(target.label for target in over_goal) + "."
        )
        body = "\n\n".join(
            [
                _stack.run_header(_stack.this_command(), stack.direct_url),
                f"{options.rounds} rounds; each round starts one fresh `python` process per "
                "target, the targets in a new order each round (a process started right after "
                "another one runs slower or faster than a round's first: a fixed order favoured "
                "the hello world, always first, by up to 60 ms). *Import* is timed inside the "
                "process with `time.perf_counter`, from "
                "before `importlib` loads the handler module by its file path until `handler` "
                "exists (the app is built at import). *First request* is the handler's first "
                "call on a real API Gateway event in that process: settings, the pooled "
                "database connection through PgBouncer, the cache client, the course from "
                "the (warm) Upstash cache. The hello world is `FastAPI()` with one route "
                "wrapped by `Mangum`, built the same way in the same rounds. "
                f"Goal: import at most {GOAL_RATIO}x the hello world's (McpFunction: "
                f"{GOAL_RATIOS['McpFunction']}x; its first request imports the MCP SDK, which "
                "it defers from import to the first request that needs it). The *(info)* row adds "
                "one route with a path parameter to the hello world: FastAPI imports "
                "`pydantic.v1` the first time a route declares a parameter (to refuse v1 "
                "models), a cost every real app pays and the bare hello world does not. "
                "The *build:* rows run the `sam build` output as Lambda does: `python -I -S "
                "-B` (no site-packages, no bytecode written: the code tree is read-only), "
                "sys.path holding only the function's folder and the layer's `python/`, "
                "every module compiled at build time; their ratios are to *build: hello "
                "world*, the hello world compiled the same way, its FastAPI and Mangum "
                "the layer's.",
                table,
                f"Hello world: import p50 {_stack.ms(hello_import.p50)} ms (from the build: "
                f"{_stack.ms(built_hello_import.p50)} ms), first request p50 "
                f"{_stack.ms(hello_first.p50)} ms. {verdict} The goal is judged on the "
                "medians; the minimums, least disturbed by whatever else the machine runs, "
                "are shown beside them.",
                *mcp_text,
                *offender_text,
                *[
                    f"Not measured, {label} did not start: `{error}`"
                    for label, error in broken.items()
                ],
            ]
        )
        if not options.no_record:
            _stack.record_section("Cold start", body)
            print(f"\nrecorded in {_stack.BENCHMARKS_MD}", file=sys.stderr)
    finally:
        stack.close()


if __name__ == "__main__":
    main()
