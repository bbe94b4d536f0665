"""`python -m plumbing.run <service>`: runs one service (or the gateway) in this process."""
import eventlet

eventlet.monkey_patch()

import sys  # noqa: E402
import time  # noqa: E402

from nameko.cli.run import run  # noqa: E402

from plumbing import logs, settings  # noqa: E402


def main(argv):
    if len(argv) != 1 or argv[0] not in settings.SERVICE_CLASSES:
        sys.exit(f"usage: python -m plumbing.run {{{','.join(settings.SERVICE_CLASSES)}}}")
    name = argv[0]
    logs.configure(name)
    delay = settings.slow_start_seconds(name)
    if delay:
        if settings.is_production():
            sys.exit("PINTUAN_SLOW_START_SECONDS is a test knob; refused in production")
        time.sleep(delay)
    run([settings.service_class(name)], settings.nameko_config(name))


if __name__ == "__main__":
    main(sys.argv[1:])
