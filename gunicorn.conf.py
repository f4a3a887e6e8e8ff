# gunicorn reads this file from the directory it starts in (the image's /app, the checkout).
# The access log leaves out the secret part of emailed links (config/gunicorn.py).
logger_class = "config.gunicorn.RedactingLogger"
