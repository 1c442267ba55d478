"""The lab portal (DESIGN decision 9): students check their own work in a browser or over a JSON API,
instructors watch and grade their cohorts. `tokens` signs people in, `service` does the work, `web`
is the HTTP layer (FastAPI, Jinja2 templates, static assets served by the app), `server` runs it."""
