import { createRequire as __hallmarkCreateRequire } from "node:module"; const require = __hallmarkCreateRequire(import.meta.url);
import{c as a,d as b}from"./chunk-I4FQBUO2.js";import"./chunk-APUKJM4X.js";import"./chunk-LD2QUAJ7.js";export{a as context,b as getOctokit};
