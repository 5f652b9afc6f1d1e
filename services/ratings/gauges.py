"""Governance figures for Prometheus, read from the ratings database: the star distribution of the latest final
rating (of every county in the deployment together)."""
from sqlalchemy import func, select

from kit import metrics
from services.ratings import models as m


def measure(session):
    latest = select(m.StarRating.county_id, func.max(m.StarRating.year).label("year")).where(
        m.StarRating.status == "final").group_by(m.StarRating.county_id).subquery()
    ratings = select(m.StarRating.id).join(latest, (m.StarRating.county_id == latest.c.county_id) &
                                           (m.StarRating.year == latest.c.year)).where(m.StarRating.status == "final")
    metrics.set_gauge(metrics.STAR_COMPANIES, dict(session.execute(
        select(m.StarRatingEntry.stars, func.count()).where(m.StarRatingEntry.star_rating_id.in_(ratings),
                                                            m.StarRatingEntry.stars.is_not(None))
        .group_by(m.StarRatingEntry.stars)).all()), "stars")
