/**
 * Superseded by contract.ts. Kept only so branches written against the old path still compile
 * while the contract lands; new code imports './contract.js'.
 */
export * from './contract.js';
