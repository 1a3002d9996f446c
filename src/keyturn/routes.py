"""Every router the app serves, in one list: add a domain here and nowhere else."""

from fastapi import APIRouter

API_PREFIX = "/api/v1"


def root_routers() -> list[APIRouter]:
    from keyturn.system.router import router as system

    return [system]


def api_routers() -> list[APIRouter]:
    from keyturn.notify.router import router as notify

    return [notify]
