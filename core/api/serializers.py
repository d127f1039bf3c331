from rest_framework import serializers

from core.models import Job, JobEvent
from core.remote import for_reader


class RemoteTextField(serializers.CharField):
    """A message that may hold what a remote system said: shown as the caller may read it (core/remote.py)."""

    def to_representation(self, value):
        request = self.context.get("request")
        return for_reader(super().to_representation(value), getattr(request, "user", None))


class JobEventSerializer(serializers.ModelSerializer):
    message = RemoteTextField(read_only=True)

    class Meta:
        model = JobEvent
        fields = ["seq", "created", "level", "message"]


class JobSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:job-detail")
    user = serializers.StringRelatedField()
    object_type = serializers.SerializerMethodField()
    error = RemoteTextField(read_only=True)

    class Meta:
        model = Job
        fields = [
            "id",
            "url",
            "kind",
            "name",
            "status",
            "progress",
            "progress_text",
            "user",
            "object_type",
            "object_id",
            "data",
            "error",
            "event_count",
            "created",
            "started",
            "completed",
        ]

    def get_object_type(self, job) -> str | None:
        return f"{job.object_type.app_label}.{job.object_type.model}" if job.object_type_id else None
