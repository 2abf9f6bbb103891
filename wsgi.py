"""What gunicorn serves: `gunicorn wsgi:app`; also the Flask CLI's app (`flask --app wsgi ...`)."""
import sys

from signpost import create_app
from signpost.settings import SettingsError

try:
    app = create_app()
except SettingsError as exc:  # a setting missing or wrong: say which and how to fix it, not a traceback
    sys.exit(f"Error: {exc}")
