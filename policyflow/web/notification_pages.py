"""The notifications inbox: what concerns the signed-in user, read one by one or all at once."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from policyflow.services import notifications
from policyflow.web.pages import blueprint, signed_in_required
from policyflow.web.requests import actor, db, safe_next


@blueprint.route("/notifications")
@signed_in_required
def notifications_page() -> str:
    user = actor().user
    unread_only = request.args.get("show") == "unread"
    return render_template("notifications.html", items=notifications.list_notifications(db(), user, unread_only),
                           unread_only=unread_only, unread=notifications.unread_count(db(), user))


@blueprint.route("/notifications/<int:notification_id>/read", methods=["POST"])
@signed_in_required
def notification_read(notification_id: int) -> Response:
    item = notifications.mark_read(db(), actor().user, notification_id)
    if request.form.get("open"):
        return redirect(safe_next(item.url) or url_for("pages.notifications_page"))
    return redirect(url_for("pages.notifications_page"))


@blueprint.route("/notifications/read-all", methods=["POST"])
@signed_in_required
def notifications_read_all() -> Response:
    count = notifications.mark_all_read(db(), actor().user)
    flash(f"{count} notification(s) marked read.", "success")
    return redirect(url_for("pages.notifications_page"))


@blueprint.route("/notifications/email", methods=["POST"])
@signed_in_required
def notifications_email() -> Response:
    enabled = request.form.get("email") == "on"
    notifications.set_email_preference(db(), actor().user, enabled)
    flash("E-mail notifications are " + ("on." if enabled else "off."), "success")
    return redirect(url_for("pages.notifications_page"))
