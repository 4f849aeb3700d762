"""The service of the UWS benchmark with the trivial job list mounted at ``/trivial``."""
from uws import JobList
from uws.binding import mount
from vo_service import create_app

app = create_app()
mount(app, JobList("trivial", "uws_trivial:run", title="trivial jobs"), "/trivial")
