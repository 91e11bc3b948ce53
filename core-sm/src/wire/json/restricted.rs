//! The restricted serializers of the writer: object keys, and the text of a [`RawJson`](super::RawJson).

use serde::ser::{self, Impossible, Serialize};
use serde_json::ser::{CompactFormatter, Formatter};

use super::{formatted, write_str, Error, Serializer};

/// Methods of the restricted serializers below that only fail.
macro_rules! refuse {
    ($error:expr; $($method:ident($($ty:ty),*);)*) => {
        $(
            fn $method(self, $(_: $ty),*) -> Result<(), Error> {
                Err($error)
            }
        )*
    };
}

/// Compound types a restricted serializer refuses.
macro_rules! refuse_compounds {
    ($error:expr) => {
        type SerializeSeq = Impossible<(), Error>;
        type SerializeTuple = Impossible<(), Error>;
        type SerializeTupleStruct = Impossible<(), Error>;
        type SerializeTupleVariant = Impossible<(), Error>;
        type SerializeMap = Impossible<(), Error>;
        type SerializeStruct = Impossible<(), Error>;
        type SerializeStructVariant = Impossible<(), Error>;

        fn serialize_newtype_variant<T: ?Sized + Serialize>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> Result<(), Error> {
            Err($error)
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
            Err($error)
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
            Err($error)
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleStruct, Error> {
            Err($error)
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, Error> {
            Err($error)
        }
        fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
            Err($error)
        }
        fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
            Err($error)
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant, Error> {
            Err($error)
        }
    };
}

/// Writes object keys as serde_json does: strings as they are; integers, booleans and finite
/// floats quoted; anything else is an error.
pub(super) struct MapKeySerializer<'s, 'o> {
    pub(super) ser: &'s mut Serializer<'o>,
}

/// Writes one scalar key quoted with serde_json's formatter.
macro_rules! quoted {
    ($($method:ident($ty:ty) => $write:ident;)*) => {
        $(
            fn $method(self, value: $ty) -> Result<(), Error> {
                let out = &mut *self.ser.out;
                out.push('"');
                formatted(out, |w| CompactFormatter.$write(w, value))?;
                out.push('"');
                Ok(())
            }
        )*
    };
}

impl ser::Serializer for MapKeySerializer<'_, '_> {
    type Ok = ();
    type Error = Error;

    refuse_compounds!(key_must_be_a_string());

    quoted! {
        serialize_bool(bool) => write_bool;
        serialize_i8(i8) => write_i8;
        serialize_i16(i16) => write_i16;
        serialize_i32(i32) => write_i32;
        serialize_i64(i64) => write_i64;
        serialize_i128(i128) => write_i128;
        serialize_u8(u8) => write_u8;
        serialize_u16(u16) => write_u16;
        serialize_u32(u32) => write_u32;
        serialize_u64(u64) => write_u64;
        serialize_u128(u128) => write_u128;
    }

    refuse! { key_must_be_a_string();
        serialize_bytes(&[u8]);
        serialize_unit();
        serialize_unit_struct(&'static str);
        serialize_none();
    }

    fn serialize_f32(self, value: f32) -> Result<(), Error> {
        if !value.is_finite() {
            return Err(float_key_must_be_finite());
        }
        let out = &mut *self.ser.out;
        out.push('"');
        formatted(out, |w| CompactFormatter.write_f32(w, value))?;
        out.push('"');
        Ok(())
    }

    fn serialize_f64(self, value: f64) -> Result<(), Error> {
        if !value.is_finite() {
            return Err(float_key_must_be_finite());
        }
        let out = &mut *self.ser.out;
        out.push('"');
        formatted(out, |w| CompactFormatter.write_f64(w, value))?;
        out.push('"');
        Ok(())
    }

    fn serialize_char(self, value: char) -> Result<(), Error> {
        self.serialize_str(value.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, value: &str) -> Result<(), Error> {
        write_str(self.ser.out, value);
        Ok(())
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
}

/// Writes the text of a [`RawJson`] as it is.
pub(super) struct RawJsonEmitter<'s, 'o> {
    pub(super) ser: &'s mut Serializer<'o>,
}

fn not_raw_json() -> Error {
    Error("expected raw JSON text".to_owned())
}

impl ser::Serializer for RawJsonEmitter<'_, '_> {
    type Ok = ();
    type Error = Error;

    refuse_compounds!(not_raw_json());

    refuse! { not_raw_json();
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_i128(i128);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_u128(u128);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_char(char);
        serialize_bytes(&[u8]);
        serialize_unit();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
        serialize_none();
    }

    fn serialize_str(self, value: &str) -> Result<(), Error> {
        self.ser.out.push_str(value);
        Ok(())
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _value: &T,
    ) -> Result<(), Error> {
        Err(not_raw_json())
    }

    fn serialize_some<T: ?Sized + Serialize>(self, _value: &T) -> Result<(), Error> {
        Err(not_raw_json())
    }
}

fn key_must_be_a_string() -> Error {
    Error("key must be a string".to_owned())
}

fn float_key_must_be_finite() -> Error {
    Error("float key must be finite".to_owned())
}
