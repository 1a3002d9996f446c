"""Every router the app serves, in one list: add a domain here and nowhere else."""

from fastapi import APIRouter

API_PREFIX = "/api/v1"


def root_routers() -> list[APIRouter]:
    from keyturn.sessions.router import wellknown_router
    from keyturn.system.router import router as system

    return [system, wellknown_router]


def api_routers() -> list[APIRouter]:
    from keyturn.auth.router import router as auth
    from keyturn.notify.router import router as notify
    from keyturn.sessions.router import router as sessions
    from keyturn.users.router import admin_router as admin_users
    from keyturn.users.router import router as users

    return [auth, sessions, users, admin_users, notify]
