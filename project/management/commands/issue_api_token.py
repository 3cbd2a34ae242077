from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from project.tokens import issue_api_token


class Command(BaseCommand):
    help = "Create an API token for a user and print only the token (it is stored hashed)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the token is for.")

    def handle(self, *args, username: str, name: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}")
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive")
        _, raw = issue_api_token(user=user, name=name)
        self.stdout.write(raw)
