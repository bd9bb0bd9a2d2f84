//! Query execution: parsing, searching splits, paging, histogram and top values.

mod aggregate;
mod cursor;
mod parse;
mod search;
mod topk;

pub(crate) use parse::{Compiled, QueryCompiler};
pub(crate) use search::{SearchEnv, search, search_until};
