"""The ceiling for the load benchmark: a Flask app that answers "hello" under the same gunicorn settings."""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello() -> str:
    return "Hello, world!"
