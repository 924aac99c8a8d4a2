"""AuthFunction: register, login, profile, GDPR export and delete."""

from typing import Annotated

from fastapi import Depends, Query, Response

from companion import accounts
from companion.accounts import LoginBody, ProfileChanges, RegisterBody
from companion.deps import ClientAddress, Student, no_store
from companion.web import create_app, documented, lambda_handler

app = create_app("Course Companion - accounts", "Register, log in and manage your account.")


@app.post(
    "/auth/register",
    status_code=201,
    summary="Create a student account on the free plan.",
)
@documented("accounts.Registered", "The new account.", 400, 409, 413, 422, 429, status=201)
async def register(body: RegisterBody, client: ClientAddress):
    return accounts.register(body, client)


@app.post(
    "/auth/login",
    summary="Exchange e-mail and password for an access token.",
    dependencies=[Depends(no_store)],
)
@documented("accounts.AccessTokenBody", "A bearer token.", 400, 401, 413, 422, 429)
async def login(body: LoginBody, client: ClientAddress):
    return accounts.login(body, client)


@app.get(
    "/v1/me",
    summary="Your profile and plan.",
)
@documented("accounts.Profile", "The profile.", 401)
async def get_profile(student: Student):
    return accounts.profile(student)


@app.patch(
    "/v1/me",
    summary="Change your name or timezone.",
)
@documented("accounts.Profile", "The profile as changed.", 400, 401, 413, 422)
async def update_profile(student: Student, body: ProfileChanges):
    return accounts.update_profile(student, body)


@app.get(
    "/v1/me/export",
    summary="Everything stored about you.",
    dependencies=[Depends(no_store)],
)
@documented("accounts.DataExport", "Every row held about you.", 401, 422)
async def export_my_data(
    student: Student,
    attempts_limit: Annotated[
        int | None,
        Query(ge=1, le=100, description="At most this many quiz attempts (oldest first)."),
    ] = None,
    attempts_after: Annotated[
        str | None,
        Query(max_length=36, description="The quiz_attempts_next of the previous page."),
    ] = None,
):
    return accounts.export(student, attempts_limit, attempts_after)


@app.delete(
    "/v1/me",
    status_code=204,
    summary="Delete your account and everything about you.",
)
@documented(None, "Deleted.", 401, status=204)
async def delete_account(student: Student):
    accounts.delete_account(student)
    return Response(status_code=204)


handler = lambda_handler(app)
