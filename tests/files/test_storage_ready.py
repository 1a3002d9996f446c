"""`/ready` names file storage that cannot store: on both storage backends."""

from collections.abc import Callable

from keyturn.app import create_app
from keyturn.config import FileSettings, Settings
from tests.conftest import http_client


async def test_ready_while_storage_answers_and_names_it_when_it_cannot(
    settings: Settings, make_settings: Callable[..., Settings], tmp_path
) -> None:
    app = create_app(settings)
    async with http_client(app) as client:
        ready = await client.get("/ready")
    await app.state.databases.dispose()
    assert ready.status_code == 200 and ready.json()["checks"]["storage"] is True

    if settings.files.backend == "s3":
        broken = settings.files.model_copy(update={"s3_bucket": "no-such-bucket"})
    else:
        blocker = tmp_path / "a-file"
        blocker.write_text("where the directory should be")
        broken = FileSettings(local_dir=blocker / "files")
    app = create_app(make_settings(files=broken))
    async with http_client(app) as client:
        down = await client.get("/ready")
    await app.state.databases.dispose()
    assert down.status_code == 503
    assert down.json()["unavailable"] == ["storage"]
    assert down.json()["problems"] == {"storage": "cannot store files"}
