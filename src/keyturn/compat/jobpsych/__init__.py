"""Seed 004's Express "JobPsych" API (paths, camelCase fields, status codes, the
`refreshToken` cookie) served by keyturn's services: docs/compat-jobpsych.md lists every call
and what behaves differently because the seed's behaviour was a security bug."""
