//! A small SQL builder with the right placeholders for each database: `$1, $2, …` on
//! PostgreSQL (sqlx's `QueryBuilder<Any>` writes `?`, which PostgreSQL rejects) and `?` on
//! SQLite, where `$N` is a *named* parameter whose lookup walks every parameter of the
//! statement — quadratic in the number of binds, which multi-row inserts made dominant.

use super::Backend;

use sqlx::Any;
use sqlx::any::AnyArguments;
use sqlx::query::Query;

/// A bound value. The `Any` driver supports only a few types; these are the ones we use.
pub(crate) enum Val {
    Int(i64),
    OptInt(Option<i64>),
    Text(String),
    OptText(Option<String>),
}

impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::Int(v)
    }
}
impl From<Option<i64>> for Val {
    fn from(v: Option<i64>) -> Self {
        Val::OptInt(v)
    }
}
impl From<String> for Val {
    fn from(v: String) -> Self {
        Val::Text(v)
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Val::Text(v.to_string())
    }
}
impl From<Option<String>> for Val {
    fn from(v: Option<String>) -> Self {
        Val::OptText(v)
    }
}
impl From<Option<&str>> for Val {
    fn from(v: Option<&str>) -> Self {
        Val::OptText(v.map(str::to_string))
    }
}

/// SQL text plus its arguments, in placeholder order.
pub(crate) struct Sql {
    backend: Backend,
    text: String,
    args: Vec<Val>,
}

impl Sql {
    pub fn new(backend: Backend, text: &str) -> Sql {
        Sql {
            backend,
            text: text.to_string(),
            args: Vec::new(),
        }
    }

    /// Most bind parameters one statement may carry on this database.
    pub fn max_params(backend: Backend) -> usize {
        match backend {
            Backend::Sqlite => 32_766,
            Backend::Postgres => 65_535,
        }
    }

    /// Append literal SQL (never user input).
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Append a placeholder bound to `v`.
    pub fn bind(&mut self, v: impl Into<Val>) -> &mut Self {
        self.args.push(v.into());
        match self.backend {
            Backend::Sqlite => self.text.push('?'),
            Backend::Postgres => {
                self.text.push('$');
                self.text.push_str(&self.args.len().to_string());
            }
        }
        self
    }

    /// Append `(v1, v2, …)` with one placeholder per value.
    pub fn bind_list<T: Into<Val>>(&mut self, values: impl IntoIterator<Item = T>) -> &mut Self {
        self.text.push('(');
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(v);
        }
        self.text.push(')');
        self
    }

    /// The query, ready to execute.
    pub fn build(self) -> Query<'static, Any, AnyArguments> {
        // Safe: `text` holds only literal SQL from this crate; values travel as arguments.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(self.text));
        for v in self.args {
            q = match v {
                Val::Int(x) => q.bind(x),
                Val::OptInt(x) => q.bind(x),
                Val::Text(x) => q.bind(x),
                Val::OptText(x) => q.bind(x),
            };
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_on_postgres_and_positional_on_sqlite() {
        for (backend, expected) in [
            (Backend::Postgres, "SELECT 1 WHERE a = $1 AND b IN ($2, $3)"),
            (Backend::Sqlite, "SELECT 1 WHERE a = ? AND b IN (?, ?)"),
        ] {
            let mut s = Sql::new(backend, "SELECT 1 WHERE a = ");
            s.bind(1i64).push(" AND b IN ").bind_list(["x", "y"]);
            assert_eq!(s.text, expected);
            assert_eq!(s.args.len(), 3);
        }
    }
}
