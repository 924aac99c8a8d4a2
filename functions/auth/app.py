"""AuthFunction: register, login, profile, GDPR export and delete."""

from typing import Annotated

from fastapi import Query, Response

from companion import accounts
from companion.accounts import LoginBody, ProfileChanges, RegisterBody
from companion.deps import Student
from companion.schemas import errors, ok
from companion.schemas.accounts import AccessTokenBody, DataExport, Profile, Registered
from companion.web import create_app, lambda_handler

app = create_app("Course Companion - accounts", "Register, log in and manage your account.")


@app.post(
    "/auth/register",
    status_code=201,
    summary="Create a student account on the free plan.",
    responses={**ok(Registered, "The new account.", 201), **errors(400, 409, 413, 422)},
)
async def register(body: RegisterBody):
    return accounts.register(body)


@app.post(
    "/auth/login",
    summary="Exchange e-mail and password for an access token.",
    responses={**ok(AccessTokenBody, "A bearer token."), **errors(400, 401, 413, 422, 429)},
)
async def login(body: LoginBody):
    return accounts.login(body)


@app.get(
    "/v1/me",
    summary="Your profile and plan.",
    responses={**ok(Profile, "The profile."), **errors(401)},
)
async def get_profile(student: Student):
    return accounts.profile(student)


@app.patch(
    "/v1/me",
    summary="Change your name or timezone.",
    responses={**ok(Profile, "The profile as changed."), **errors(400, 401, 413, 422)},
)
async def update_profile(student: Student, body: ProfileChanges):
    return accounts.update_profile(student, body)


@app.get(
    "/v1/me/export",
    summary="Everything stored about you.",
    responses={**ok(DataExport, "Every row held about you."), **errors(401, 422)},
)
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
    responses={204: {"description": "Deleted."}, **errors(401)},
)
async def delete_account(student: Student):
    accounts.delete_account(student)
    return Response(status_code=204)


handler = lambda_handler(app)
