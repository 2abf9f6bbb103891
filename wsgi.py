"""What gunicorn serves: `gunicorn wsgi:app`; also the Flask CLI's app (`flask --app wsgi ...`)."""
from signpost import create_app

app = create_app()
