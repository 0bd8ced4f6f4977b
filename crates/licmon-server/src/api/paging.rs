//! `limit` / `offset` for lists that grow.

use serde::Deserialize;

/// Most items one page holds, whatever `limit` says.
pub const MAX_LIMIT: u32 = 10_000;

#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// Most items to return (default and maximum 10000).
    pub limit: Option<u32>,
    /// Items to skip.
    pub offset: Option<u32>,
}

impl Page {
    pub fn limit(self) -> usize {
        self.limit.unwrap_or(MAX_LIMIT).min(MAX_LIMIT) as usize
    }

    pub fn offset(self) -> usize {
        self.offset.unwrap_or(0) as usize
    }

    pub fn apply<T>(self, items: Vec<T>) -> Vec<T> {
        items
            .into_iter()
            .skip(self.offset())
            .take(self.limit())
            .collect()
    }
}
