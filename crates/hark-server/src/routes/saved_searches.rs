//! `GET`, `POST /api/v1/saved-searches` and `DELETE
//! /api/v1/saved-searches/{id}`: each principal's own saved searches.
//!
//! They live in `<data_dir>/ui/saved-searches.json`, one list per principal
//! identity (users by user name, tokens by token id, so a user and a token
//! of the same name keep theirs apart), rewritten whole and atomically
//! (temporary file, fsync, rename, fsync of the directory) under one lock,
//! so a crash leaves the old file or the new one.
//!
//! Files of earlier versions held one list per principal *name*, shared
//! by the user and every token of that name. The first access migrates
//! such a file: each list goes to the user of that name and to every
//! token of that name existing then, so nobody loses a search they saw,
//! and the file is rewritten in the current form.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};

use crate::Shared;
use crate::api::{NewSavedSearch, SavedSearch};
use crate::error::ApiError;
use crate::identity::{Principal, PrincipalKind};
use crate::tokens::TokenStore;

/// The file, below the data directory.
const FILE: &str = "ui/saved-searches.json";
/// The `version` of the current file form.
const VERSION: u32 = 2;
/// Most saved searches per principal.
pub(crate) const MAX_PER_PRINCIPAL: usize = 500;
/// Longest name, in characters.
const MAX_NAME: usize = 200;
/// Longest query or time text, in bytes.
const MAX_TEXT: usize = 16 * 1024;

/// Serialises reads and rewrites of the file.
static LOCK: Mutex<()> = Mutex::new(());

/// The file's content: saved searches by principal identity.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Book {
    /// Always [`VERSION`]; files of earlier versions have none.
    version: u32,
    /// By user name.
    #[serde(default)]
    users: BTreeMap<String, Vec<SavedSearch>>,
    /// By token id.
    #[serde(default)]
    tokens: BTreeMap<String, Vec<SavedSearch>>,
}

/// The file of earlier versions: saved searches by principal name.
type ByName = BTreeMap<String, Vec<SavedSearch>>;

/// What the file holds.
#[derive(Deserialize)]
#[serde(untagged)]
enum OnDisk {
    /// The current form.
    Current(Book),
    /// The form keyed by principal name, to migrate.
    ByName(ByName),
}

impl Book {
    /// The lists of `who`'s kind, by id.
    fn lists(&mut self, who: &Principal) -> &mut BTreeMap<String, Vec<SavedSearch>> {
        match who.kind {
            PrincipalKind::User => &mut self.users,
            PrincipalKind::Token => &mut self.tokens,
        }
    }

    /// `who`'s saved searches, taken out of the book.
    fn take(&mut self, who: &Principal) -> Vec<SavedSearch> {
        self.lists(who).remove(&who.id).unwrap_or_default()
    }

    /// `who`'s saved searches, for changing.
    fn entry(&mut self, who: &Principal) -> &mut Vec<SavedSearch> {
        self.lists(who).entry(who.id.clone()).or_default()
    }

    /// The book an earlier file's lists by name make: each list goes to
    /// the user of that name and to each of `tokens` with that name.
    fn from_names(by_name: ByName, tokens: &[hark_auth::tokens::TokenInfo]) -> Book {
        let mut book = Book {
            version: VERSION,
            ..Book::default()
        };
        for (name, list) in by_name {
            for token in tokens.iter().filter(|t| t.name == name) {
                book.tokens
                    .entry(token.id.clone())
                    .or_default()
                    .extend(list.iter().cloned());
            }
            book.users.insert(name, list);
        }
        book
    }
}

/// `GET /api/v1/saved-searches`: the caller's saved searches, oldest first.
pub(crate) async fn list(
    State(app): State<Shared>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<Vec<SavedSearch>>, ApiError> {
    let path = app.store.data_dir().join(FILE);
    let tokens = app.tokens.clone();
    let list = tokio::task::spawn_blocking(move || {
        let _guard = lock();
        load(&path, &tokens).map(|mut book| book.take(&principal))
    })
    .await?
    .map_err(|e| ApiError::Internal(format!("reading saved searches: {e}")))?;
    Ok(Json(list))
}

/// `POST /api/v1/saved-searches`: saves a search for the caller.
pub(crate) async fn add(
    State(app): State<Shared>,
    Extension(principal): Extension<Principal>,
    body: Result<Json<NewSavedSearch>, JsonRejection>,
) -> Result<(StatusCode, Json<SavedSearch>), ApiError> {
    let Json(new) = body.map_err(|e| ApiError::bad_request(e.body_text()))?;
    validate(&new)?;
    let path = app.store.data_dir().join(FILE);
    let tokens = app.tokens.clone();
    let saved = tokio::task::spawn_blocking(move || -> Result<SavedSearch, ApiError> {
        let _guard = lock();
        let mut book = load(&path, &tokens)
            .map_err(|e| ApiError::Internal(format!("reading saved searches: {e}")))?;
        let list = book.entry(&principal);
        if list.len() >= MAX_PER_PRINCIPAL {
            return Err(ApiError::Conflict(format!(
                "at most {MAX_PER_PRINCIPAL} saved searches each; delete some first"
            )));
        }
        let saved = SavedSearch {
            id: hex::encode(rand::random::<[u8; 8]>()),
            name: new.name.trim().to_owned(),
            q: new.q,
            from: new.from,
            to: new.to,
            since: new.since,
            created: hark_event::format_rfc3339_nanos(hark_event::now_nanos()),
        };
        list.push(saved.clone());
        save(&path, &book)
            .map_err(|e| ApiError::Internal(format!("writing saved searches: {e}")))?;
        Ok(saved)
    })
    .await??;
    Ok((StatusCode::CREATED, Json(saved)))
}

/// `DELETE /api/v1/saved-searches/{id}`: deletes one of the caller's.
pub(crate) async fn remove(
    State(app): State<Shared>,
    Extension(principal): Extension<Principal>,
    UrlPath(id): UrlPath<String>,
) -> Result<StatusCode, ApiError> {
    let path = app.store.data_dir().join(FILE);
    let tokens = app.tokens.clone();
    tokio::task::spawn_blocking(move || -> Result<(), ApiError> {
        let _guard = lock();
        let mut book = load(&path, &tokens)
            .map_err(|e| ApiError::Internal(format!("reading saved searches: {e}")))?;
        let list = book.entry(&principal);
        let before = list.len();
        list.retain(|s| s.id != id);
        if list.len() == before {
            return Err(ApiError::NotFound(format!("no saved search {id:?}")));
        }
        if list.is_empty() {
            book.lists(&principal).remove(&principal.id);
        }
        save(&path, &book).map_err(|e| ApiError::Internal(format!("writing saved searches: {e}")))
    })
    .await??;
    Ok(StatusCode::NO_CONTENT)
}

fn validate(new: &NewSavedSearch) -> Result<(), ApiError> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(ApiError::bad_request(format!(
            "name: must be 1 to {MAX_NAME} characters"
        )));
    }
    let texts = [
        Some(&new.q),
        new.from.as_ref(),
        new.to.as_ref(),
        new.since.as_ref(),
    ];
    if texts.into_iter().flatten().any(|t| t.len() > MAX_TEXT) {
        return Err(ApiError::bad_request(format!(
            "q, from, to and since: at most {MAX_TEXT} bytes each"
        )));
    }
    Ok(())
}

fn lock() -> std::sync::MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The saved searches on disk; none when the file does not exist yet. A
/// file of an earlier version is migrated (with `tokens` as they are now)
/// and rewritten before this returns.
fn load(path: &Path, tokens: &TokenStore) -> io::Result<Book> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(Book {
                version: VERSION,
                ..Book::default()
            });
        }
        Err(e) => return Err(e),
    };
    match serde_json::from_slice(&bytes).map_err(io::Error::other)? {
        OnDisk::Current(book) if book.version == VERSION => Ok(book),
        OnDisk::Current(book) => Err(io::Error::other(format!(
            "{}: version {} is not one this server reads ({VERSION})",
            path.display(),
            book.version
        ))),
        OnDisk::ByName(by_name) => {
            let tokens = tokens.list().map_err(io::Error::other)?;
            let book = Book::from_names(by_name, &tokens);
            save(path, &book)?;
            tracing::info!(
                file = %path.display(),
                "saved searches are now kept per user and per token, no longer per name"
            );
            Ok(book)
        }
    }
}

/// Replaces the file with `book`, atomically.
fn save(path: &Path, book: &Book) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let mut bytes = serde_json::to_vec_pretty(book).map_err(io::Error::other)?;
    bytes.push(b'\n');
    let tmp: PathBuf = dir.join(format!(
        ".saved-searches.{}.{}.tmp",
        std::process::id(),
        hex::encode(rand::random::<[u8; 4]>())
    ));
    let written = File::create(&tmp)
        .and_then(|mut f| f.write_all(&bytes).and_then(|()| f.sync_all()))
        .and_then(|()| fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    File::open(dir).and_then(|d| d.sync_all())
}
