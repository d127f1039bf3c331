from rest_framework import serializers

from core.models import Job, JobEvent


class JobEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = JobEvent
        fields = ["seq", "created", "level", "message"]


class JobSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:job-detail")
    user = serializers.StringRelatedField()
    object_type = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id", "url", "kind", "name", "status", "progress", "progress_text", "user", "object_type",
            "object_id", "data", "error", "event_count", "created", "started", "completed",
        ]

    def get_object_type(self, job) -> str | None:
        return f"{job.object_type.app_label}.{job.object_type.model}" if job.object_type_id else None
