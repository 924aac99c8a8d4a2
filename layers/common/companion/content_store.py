"""Where the course files live: an S3-compatible bucket (R2) or, locally, a folder.

Keys are the bucket's: `content/chapters/<id>.json`, `content/quizzes/<id>.json`,
`archive/quiz_attempts/...`. boto3 is imported on first use only.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from companion.errors import ServiceUnavailable
from companion.settings import get_settings


class ContentUnavailable(ServiceUnavailable):
    def __init__(self) -> None:
        super().__init__("The course content is unreachable right now. Please try again shortly.")


class S3ContentStore:
    def __init__(
        self,
        bucket: str,
        endpoint_url: str | None,
        region: str,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.region = region
        self.credentials = credentials

    @property
    def description(self) -> str:
        return f"s3://{self.bucket}" + (f" at {self.endpoint_url}" if self.endpoint_url else "")

    @property
    def _client(self):
        return _s3_client(self.endpoint_url, self.region, self.credentials)

    def _call(self, operation, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return operation(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise ContentUnavailable() from exc
        except BotoCoreError as exc:
            raise ContentUnavailable() from exc

    def get(self, key: str) -> bytes | None:
        response = self._call(self._client.get_object, Key=key)
        if response is None:
            return None
        try:
            return response["Body"].read()
        except Exception as exc:  # noqa: BLE001 - a dropped stream is an unavailable store
            raise ContentUnavailable() from exc

    def put(self, key: str, data: bytes, content_type: str = "application/json") -> None:
        self._call(self._client.put_object, Key=key, Body=data, ContentType=content_type)

    def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):  # S3's most per request
            chunk = [{"Key": key} for key in keys[start : start + 1000]]
            answer = self._call(
                self._client.delete_objects, Delete={"Objects": chunk, "Quiet": True}
            )
            if answer and answer.get("Errors"):
                raise ContentUnavailable()

    def list_keys(self, prefix: str) -> list[str]:
        keys, token = [], None
        while True:
            extra = {"ContinuationToken": token} if token else {}
            page = self._call(self._client.list_objects_v2, Prefix=prefix, **extra) or {}
            keys.extend(item["Key"] for item in page.get("Contents", []))
            token = page.get("NextContinuationToken")
            if not token:
                return sorted(keys)

    def ping(self) -> bool:
        try:
            self._call(self._client.head_bucket)
        except ContentUnavailable:
            return False
        return True


@lru_cache(maxsize=4)
def _s3_client(endpoint_url: str | None, region: str, credentials: tuple[str, str] | None):
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=2,
        read_timeout=5,
        retries={"max_attempts": 2, "mode": "standard"},
        # botocore 1.36+ adds checksums to every request by default, which R2 does not take.
        # The layer ships its own (locked) botocore, so the option is always there.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    keys = (
        {"aws_access_key_id": credentials[0], "aws_secret_access_key": credentials[1]}
        if credentials
        else {}
    )
    return boto3.client("s3", endpoint_url=endpoint_url, region_name=region, config=config, **keys)


class LocalContentStore:
    """A folder laid out like the bucket, for a laptop with nothing running."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @property
    def description(self) -> str:
        return f"folder {self.root}"

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"key outside the store: {key}")
        return path

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ContentUnavailable() from exc

    def put(self, key: str, data: bytes, content_type: str = "application/json") -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(path.suffix + ".part")
        temporary.write_bytes(data)
        temporary.replace(path)

    def delete(self, keys: list[str]) -> None:
        for key in keys:
            try:
                self._path(key).unlink(missing_ok=True)
            except OSError as exc:
                raise ContentUnavailable() from exc

    def list_keys(self, prefix: str) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            str(path.relative_to(self.root))
            for path in self.root.rglob("*")
            if path.is_file()
            and not path.name.endswith(".part")
            and str(path.relative_to(self.root)).startswith(prefix)
        )

    def ping(self) -> bool:
        return self.root.is_dir()


def content_store() -> S3ContentStore | LocalContentStore:
    settings = get_settings()
    if settings.content_bucket:
        credentials = None
        if settings.content_access_key_id and settings.content_secret_access_key:
            credentials = (settings.content_access_key_id, settings.content_secret_access_key)
        return S3ContentStore(
            settings.content_bucket,
            settings.content_endpoint_url,
            settings.content_region,
            credentials,
        )
    return LocalContentStore(settings.content_dir)
