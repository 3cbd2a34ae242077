"""WSGI entry point (gunicorn project.wsgi)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
application = get_wsgi_application()
# Everything loaded so far lives as long as the process: keep the cyclic collector from scanning it
# again and again on request-heavy paths (bulk JSON batches create many short-lived containers).
gc.freeze()
