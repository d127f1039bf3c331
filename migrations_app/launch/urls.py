"""Pages of launching and watching: batches, the live progress page and its stream, and the actions
on migrations (cancel, retry, rollback, switchover)."""

urlpatterns = []
