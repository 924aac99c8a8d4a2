"""Sign-in for chat apps: the API as its own OAuth 2.1 authorization server over the
students table. This package holds what is not protocol parsing (that is Authlib's, in
functions/oauth): the metadata documents, the clients, codes and tokens, the sign-in
form's CSRF token."""

SCOPE = "course"
SCOPE_DESCRIPTION = "read the course, take its quizzes, and see and record your progress and streak"
CODE_LIFETIME_SECONDS = 60
REFRESH_TOKEN_LIFETIME_DAYS = 30
MAX_ACCESS_TOKEN_MINUTES = 60
