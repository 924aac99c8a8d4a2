"""The cache wrapper and the local Upstash-compatible endpoint, driven by the real clients.

upstash-redis, upstash-ratelimit and companion.cache talk HTTP to the endpoint started
in-process (fakeredis behind it); one test repeats the round trip over a real Redis when
one answers on 127.0.0.1:6379. The degradation tests use an endpoint that was stopped and
a TCP server that accepts connections and never answers.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
import time
import uuid

import httpx
import pytest
from faults import SilentListener
from upstash_ratelimit import FixedWindow, Ratelimit
from upstash_redis import Redis
from upstash_redis.errors import UpstashError

from companion import cache
from companion_dev.upstash_local import serve_in_background

TOKEN = "test-token-for-the-local-endpoint"
REAL_REDIS_URL = "redis://127.0.0.1:6379"


@pytest.fixture(scope="module")
def endpoint():
    running = serve_in_background(token=TOKEN)
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def clean_cache_state(environment):
    environment(
        UPSTASH_REDIS_REST_URL=None,
        UPSTASH_REDIS_REST_TOKEN=None,
        UPSTASH_REDIS_REST_TOKEN_SSM_PARAMETER=None,
        CACHE_TIMEOUT_SECONDS=None,
        CACHE_COOLDOWN_SECONDS=None,
    )


def use_cache_at(environment, url: str, token: str = TOKEN, **settings: float) -> None:
    environment(
        UPSTASH_REDIS_REST_URL=url,
        UPSTASH_REDIS_REST_TOKEN=token,
        **{name.upper(): str(value) for name, value in settings.items()},
    )


@pytest.fixture
def cache_on_endpoint(environment, endpoint):
    use_cache_at(environment, endpoint.url)
    return endpoint


def unique(prefix: str) -> str:
    return f"test:{prefix}:{uuid.uuid4().hex}"


# --- the cache wrapper against the local endpoint -------------------------------------------


def test_json_values_round_trip_compactly_with_a_ttl_and_can_be_deleted(cache_on_endpoint):
    key = unique("chapter")
    value = {"title": "Naïve RAG — retrieval ✓", "sections": [1, 2, 3], "draft": False}

    cache.set_json(key, value, ttl_seconds=120)

    assert cache.get_json(key) == value
    raw = Redis(cache_on_endpoint.url, TOKEN, allow_telemetry=False)
    assert raw.get(key) == '{"title":"Naïve RAG — retrieval ✓","sections":[1,2,3],"draft":false}'
    assert 0 < raw.ttl(key) <= 120

    other = unique("other")
    cache.set_json(other, [1], ttl_seconds=60)
    cache.delete(key, other)
    assert cache.get_json(key) is None
    assert cache.get_json(other) is None


def test_a_missing_key_reads_as_none_and_status_is_ok(cache_on_endpoint):
    assert cache.get_json(unique("absent")) is None
    assert cache.status() == "ok"


def test_an_entry_that_is_not_json_reads_as_none_without_taking_the_cache_down(
    cache_on_endpoint,
):
    key = unique("garbage")
    Redis(cache_on_endpoint.url, TOKEN, allow_telemetry=False).set(key, "{not json")

    assert cache.get_json(key) is None
    assert cache.status() == "ok"


def test_the_client_has_no_retries_no_telemetry_and_a_bounded_timeout(environment, endpoint):
    use_cache_at(environment, endpoint.url, cache_timeout_seconds=0.25)

    client = cache.client()

    assert client is cache.client()  # built once per process
    assert client._http._retries == 0
    assert "Upstash-Telemetry-Sdk" not in client._headers
    timeout = client._http._client.timeout
    assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (0.25,) * 4


def test_upstash_ratelimit_runs_its_lua_script_through_the_cache_client(cache_on_endpoint):
    limiter = Ratelimit(
        redis=cache.client(),
        limiter=FixedWindow(max_requests=3, window=60),
        prefix=unique("login"),
    )

    outcomes = [limiter.limit("student@example.com").allowed for _ in range(4)]

    assert outcomes == [True, True, True, False]
    assert limiter.limit("someone-else@example.com").allowed is True


def test_wrong_token_is_rejected_and_the_cache_reports_down(environment, endpoint):
    response = httpx.post(endpoint.url, json=["PING"], headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.json() == {"error": "Unauthorized"}
    with pytest.raises(UpstashError, match="Unauthorized"):
        Redis(endpoint.url, "nope", allow_telemetry=False).get("anything")

    use_cache_at(environment, endpoint.url, token="nope")
    cache.set_json(unique("k"), 1, ttl_seconds=60)  # no exception
    assert cache.status() == "down"


def test_unset_configuration_disables_the_cache_without_network():
    assert cache.status() == "disabled"
    assert cache.client() is None
    assert cache.get_json("anything") is None
    cache.set_json("anything", {"a": 1}, ttl_seconds=60)
    cache.delete("anything")


def test_caller_bugs_still_raise_even_when_the_cache_is_disabled():
    with pytest.raises(ValueError):
        cache.set_json("k", 1, ttl_seconds=0)
    with pytest.raises(TypeError):
        cache.set_json("k", object(), ttl_seconds=60)


# --- the endpoint's protocol, through the real upstash-redis client and raw HTTP -------------


def test_pipeline_and_multi_exec_through_the_upstash_client(endpoint):
    redis = Redis(endpoint.url, TOKEN, allow_telemetry=False)
    counter, name = unique("counter"), unique("name")

    pipeline = redis.pipeline()
    pipeline.set(name, "Ada")
    pipeline.incr(counter)
    pipeline.incr(counter)
    pipeline.get(name)
    assert pipeline.exec() == [True, 1, 2, "Ada"]

    transaction = redis.multi()
    transaction.incr(counter)
    transaction.expire(counter, 30)
    transaction.ttl(counter)
    assert transaction.exec() == [3, True, 30]


def check_scripts_load_and_run_by_sha(url: str) -> None:
    redis = Redis(url, TOKEN, allow_telemetry=False)
    sha = redis.script_load("return {KEYS[1], ARGV[1], 7}")
    assert redis.evalsha(sha, keys=["a-key"], args=["an-arg"]) == ["a-key", "an-arg", 7]
    assert redis.eval("return redis.call('PING')") == "PONG"

    # upstash-ratelimit's shebang flag is Upstash-only; the SHA is still that of the sent text.
    counter = unique("script-counter")
    script = "#!lua flags=allow-key-locking\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])"
    sha = redis.script_load(script)
    assert sha == hashlib.sha1(script.encode()).hexdigest()
    assert redis.script_exists(sha) == [True]
    assert redis.evalsha(sha, keys=[counter], args=[5]) == 5
    assert redis.eval(script, keys=[counter], args=[2]) == 7
    redis.delete(counter)


def test_scripts_load_and_run_by_sha(endpoint):
    check_scripts_load_and_run_by_sha(endpoint.url)


def test_base64_mode_encodes_every_string_except_ok(endpoint):
    key, other = unique("b64"), unique("b64")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    b64 = {**auth, "Upstash-Encoding": "base64"}

    def post(path, body, headers):
        response = httpx.post(endpoint.url + path, json=body, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    assert post("/", ["SET", key, "héllo", "EX", 60], b64) == {"result": "OK"}
    assert post("/", ["GET", key], b64) == {"result": base64.b64encode("héllo".encode()).decode()}
    assert post("/", ["GET", key], auth) == {"result": "héllo"}
    assert post("/", ["PING"], b64) == {"result": base64.b64encode(b"PONG").decode()}
    assert post("/", ["MGET", key, other], b64) == {
        "result": [base64.b64encode("héllo".encode()).decode(), None]
    }
    assert post("/", ["TTL", key], b64)["result"] in range(1, 61)
    assert post("/pipeline", [["SET", other, "x"], ["GET", other]], b64) == [
        {"result": "OK"},
        {"result": base64.b64encode(b"x").decode()},
    ]

    # Bytes that are not UTF-8 survive base64 mode intact.
    binary = unique("binary")
    script = "return redis.call('SET', KEYS[1], string.char(255, 0, 1))"
    post("/", ["EVAL", script, 1, binary], b64)
    assert post("/", ["GET", binary], b64) == {"result": base64.b64encode(b"\xff\x00\x01").decode()}


def test_command_errors_are_400_with_a_redis_style_message(endpoint):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    response = httpx.post(endpoint.url, json=["NOSUCHCOMMAND", "x"], headers=auth)
    assert response.status_code == 400
    assert response.json()["error"].startswith("ERR unknown command")

    redis = Redis(endpoint.url, TOKEN, allow_telemetry=False)
    key = unique("list")
    redis.lpush(key, "a")
    with pytest.raises(UpstashError, match="WRONGTYPE"):
        redis.incr(key)

    pipeline = httpx.post(
        endpoint.url + "/pipeline", json=[["INCR", key], ["LLEN", key]], headers=auth
    )
    assert pipeline.status_code == 200
    assert pipeline.json()[1] == {"result": 1}
    assert pipeline.json()[0]["error"].startswith("WRONGTYPE")


def test_rest_path_commands_work_for_curl(endpoint):
    key = unique("path")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=endpoint.url, headers=auth) as http:
        assert http.get(f"/set/{key}/a%2Fb").json() == {"result": "OK"}
        assert http.get(f"/get/{key}").json() == {"result": "a/b"}
        assert http.post(f"/set/{key}", content=b"from the body").json() == {"result": "OK"}
    assert httpx.get(f"{endpoint.url}/get/{key}?_token={TOKEN}").json() == {
        "result": "from the body"
    }


# --- degradation ------------------------------------------------------------------------------


def test_a_stopped_endpoint_makes_every_call_a_quick_no_op(environment):
    running = serve_in_background(token=TOKEN)
    use_cache_at(environment, running.url, cache_cooldown_seconds=60)
    key = unique("k")
    cache.set_json(key, {"a": 1}, ttl_seconds=60)
    assert cache.get_json(key) == {"a": 1}

    running.stop()
    started = time.monotonic()
    assert cache.get_json(key) is None
    cache.set_json(key, {"a": 2}, ttl_seconds=60)
    cache.delete(key)
    assert cache.status() == "down"
    assert cache.client() is None
    assert time.monotonic() - started < 1.0


def call_with_deadline(function, *args, deadline: float = 5.0):
    """(result, seconds taken); fails instead of hanging the suite when the call hangs."""
    outcome = {}

    def run():
        started = time.monotonic()
        outcome["value"] = function(*args)
        outcome["seconds"] = time.monotonic() - started

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(deadline)
    assert not worker.is_alive(), f"call still blocked after {deadline} s: no timeout applied"
    return outcome["value"], outcome["seconds"]


@pytest.fixture
def silent_server():
    with SilentListener() as server:
        yield server


def test_a_hung_cache_costs_one_short_timeout_then_is_skipped_for_the_cool_down(
    environment, silent_server, caplog
):
    cooldown = 1.0
    use_cache_at(
        environment,
        silent_server.url(),
        cache_timeout_seconds=0.3,
        cache_cooldown_seconds=cooldown,
    )
    caplog.set_level(logging.WARNING, logger="course-companion.cache")

    value, first_call = call_with_deadline(cache.get_json, "chapter:1")
    failed_at = time.monotonic()
    assert value is None
    assert 0.25 <= first_call < 2.0
    assert silent_server.wait_for_connections(1) == 1

    # Within the cool-down nothing touches the network.
    cache.set_json("chapter:1", {"a": 1}, ttl_seconds=60)
    cache.delete("chapter:1")
    assert cache.get_json("chapter:1") is None
    assert cache.status() == "down"
    assert time.monotonic() - failed_at < cooldown, "test too slow to observe the cool-down"
    time.sleep(0.1)
    assert silent_server.accepted == 1
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "cache unavailable" in warnings[0].getMessage()

    # After the cool-down it tries again (and fails again, with one more short timeout).
    time.sleep(max(0.0, cooldown - (time.monotonic() - failed_at)) + 0.1)
    value, second_try = call_with_deadline(cache.get_json, "chapter:1")
    assert value is None
    assert second_try < 2.0
    assert silent_server.wait_for_connections(2) == 2


def test_the_cache_comes_back_by_itself_after_the_cool_down(environment, caplog):
    first = serve_in_background(token=TOKEN)
    port = int(first.url.rsplit(":", 1)[1])
    first.stop()
    cooldown = 1.0
    use_cache_at(environment, first.url, cache_cooldown_seconds=cooldown)
    caplog.set_level(logging.INFO, logger="course-companion.cache")

    assert cache.status() == "down"
    failed_at = time.monotonic()
    restarted = serve_in_background(token=TOKEN, port=port)  # same URL, back up
    try:
        key = unique("back")
        cache.set_json(key, "lost: still cooling down", ttl_seconds=60)
        assert cache.status() == "down"
        assert time.monotonic() - failed_at < cooldown, "test too slow to observe the cool-down"

        time.sleep(max(0.0, cooldown - (time.monotonic() - failed_at)) + 0.1)
        assert cache.get_json(key) is None  # the write during the cool-down was skipped
        cache.set_json(key, "back", ttl_seconds=60)
        assert cache.get_json(key) == "back"
        assert cache.status() == "ok"
        assert "cache reachable again" in caplog.text
    finally:
        restarted.stop()


# --- the same endpoint over a real Redis --------------------------------------------------


@pytest.fixture(scope="module")
def real_redis_endpoint():
    import redis

    probe = redis.Redis.from_url(REAL_REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        probe.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis answers at {REAL_REDIS_URL} ({exc}); real-Redis test skipped")
    finally:
        probe.close()
    running = serve_in_background(token=TOKEN, redis_url=REAL_REDIS_URL)
    yield running
    running.stop()


def test_real_redis_behind_the_endpoint(environment, real_redis_endpoint):
    import redis

    use_cache_at(environment, real_redis_endpoint.url)
    key, counter, limit_prefix = unique("real"), unique("real"), unique("real-login")
    try:
        cache.set_json(key, {"chapter": "ch1", "words": 1200}, ttl_seconds=60)
        assert cache.get_json(key) == {"chapter": "ch1", "words": 1200}
        assert cache.status() == "ok"

        direct = redis.Redis.from_url(REAL_REDIS_URL)
        assert direct.get(key) == b'{"chapter":"ch1","words":1200}'
        assert 0 < direct.ttl(key) <= 60
        direct.close()

        transaction = cache.client().multi()
        transaction.incr(counter)
        transaction.incr(counter)
        assert transaction.exec() == [1, 2]

        limiter = Ratelimit(
            redis=cache.client(),
            limiter=FixedWindow(max_requests=2, window=60),
            prefix=limit_prefix,
        )
        assert [limiter.limit("student").allowed for _ in range(3)] == [True, True, False]

        check_scripts_load_and_run_by_sha(real_redis_endpoint.url)
    finally:
        cleanup = redis.Redis.from_url(REAL_REDIS_URL)
        cleanup.delete(key, counter, *cleanup.keys(f"{limit_prefix}*"))
        cleanup.close()
