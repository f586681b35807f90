from flask import Blueprint

bp = Blueprint("respond", __name__, url_prefix="/r")


@bp.record_once
def _keep_built_versions(state) -> None:
    from survey.respond import built

    built.init_app(state.app)


from survey.respond import views  # noqa: F401  (registers the routes on bp)
