"""`./dev reset`: empties the local run's data for a clean start.

Removes the services' SQLite files (with -wal, -shm and -journal), the uploaded images
under var/media (the products they belonged to are gone with the databases) and this
vhost's queues: every event queue topology declares, the `rpc-<service>` queues and
any reply queues Nameko left. Refused while a stack runs on that vhost. Databases set
by `<SERVICE>_DATABASE_URL` elsewhere (PostgreSQL), a PINTUAN_MEDIA_DIR of its own and
the development keys under var/keys are left alone.
"""
import shutil
import sys
from pathlib import Path

from up import Failed, brief, check_broker, shown

from plumbing import settings, topology, vhost
from plumbing.probes import broker_address

SQLITE_SIDE_FILES = ("", "-wal", "-shm", "-journal")


def sqlite_files():
    """The SQLite files of every service that keeps its data in one."""
    files = []
    for service in settings.SERVICES:
        url = settings.database_url(service)
        if url.startswith("sqlite:///"):
            path = Path(url.removeprefix("sqlite:///"))
            files += [path.with_name(path.name + side) for side in SQLITE_SIDE_FILES]
    return [path for path in files if path.exists()]


def our_queues(amqp_uri, vhost_name):
    names = {queue.name for queue in topology.all_queues({"AMQP_URI": amqp_uri})}
    names |= {vhost.rpc_queue(name) for name in settings.SERVICE_CLASSES}
    names |= {name for name in vhost.listed_queues(vhost_name)
              if name.startswith(vhost.REPLY_QUEUE_PREFIX)}
    return sorted(names)


def reset():
    amqp_uri = settings.amqp_uri()
    host, vhost_name = broker_address(amqp_uri)
    check_broker(amqp_uri, host, vhost_name)
    running = vhost.answering_services(amqp_uri, list(settings.SERVICE_CLASSES))
    if running:
        raise Failed(f"a stack runs on RabbitMQ vhost {vhost_name!r} ({', '.join(running)} answer "
                     "there); stop it first (Ctrl-C where ./dev up runs), then reset")
    try:
        queues = vhost.delete_queues(amqp_uri, our_queues(amqp_uri, vhost_name))
    except Exception as exc:
        raise Failed(f"could not delete the queues of vhost {vhost_name!r}: {brief(exc)}")
    files = sqlite_files()
    for path in files:
        path.unlink()
    media = "left alone (PINTUAN_MEDIA_DIR is set)"
    if not settings.env("PINTUAN_MEDIA_DIR"):
        shutil.rmtree(settings.var_dir() / "media", ignore_errors=True)
        media = f"{shown(settings.var_dir() / 'media')} emptied"
    print(f"reset: {len(files)} SQLite files under {shown(settings.var_dir())} removed, {queues} "
          f"queues of vhost {vhost_name!r} deleted, uploaded images {media}")


def main():
    if settings.is_production():
        print("./dev reset: refused with PINTUAN_ENV=production", file=sys.stderr)
        return 1
    try:
        reset()
    except Failed as failure:
        print(f"./dev reset: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
