from django.urls import path

from sessions_app import views

app_name = "sessions"

urlpatterns = [
    path("sessions/", views.page, name="page"),
    path("sessions/status/", views.status, name="status"),
    path("sessions/start/", views.start, name="start"),
    path("sessions/check/", views.check, name="check"),
    path("sessions/close/", views.close, name="close"),
    path("sessions/upload/", views.upload, name="upload"),
    path("sessions/poll-ftp/", views.poll_ftp, name="poll_ftp"),
    path("sessions/<int:session_id>/csv/", views.download_csv, name="csv"),
]
